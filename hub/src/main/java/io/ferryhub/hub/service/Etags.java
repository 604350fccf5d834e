package io.ferryhub.hub.service;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.security.SecureRandom;
import java.util.Base64;

/** Etags as IoT Hub uses them: opaque, new on every change, checked against {@code If-Match}. */
public final class Etags {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Etags() {
    }

    public static String newEtag() {
        byte[] tag = new byte[8];
        RANDOM.nextBytes(tag);
        return Base64.getEncoder().encodeToString(tag);
    }

    /**
     * Checks If-Match as the SDKs send it: {@code *}, {@code "*"}, {@code "etag"} or {@code etag}; null means no
     * condition.
     *
     * @throws HubException {@code PreconditionFailed} on a mismatch
     */
    public static void check(String ifMatch, String current) {
        if (ifMatch == null) {
            return;
        }
        String wanted = ifMatch.trim();
        if (wanted.length() >= 2 && wanted.startsWith("\"") && wanted.endsWith("\"")) {
            wanted = wanted.substring(1, wanted.length() - 1);
        }
        if (!wanted.equals("*") && !wanted.equals(current)) {
            throw new HubException(HubErrorCode.PreconditionFailed, "The etag in If-Match ("
                    + (wanted.length() > 64 ? wanted.substring(0, 64) + "..." : wanted)
                    + ") does not match the current one (" + current + ")");
        }
    }
}
