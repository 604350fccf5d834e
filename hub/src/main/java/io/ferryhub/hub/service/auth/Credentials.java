package io.ferryhub.hub.service.auth;

import io.ferryhub.hub.service.registry.Authentication;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Names the credential an identity proved when it connected, without holding the secret (a SAS key is named by a
 * digest of it), so that after a re-key one can tell whether it still holds: a key that was swapped into the other
 * slot still does, a regenerated one does not.
 */
public final class Credentials {
    /** A chain to a verified CA whose leaf names the identity: no registered key to change. */
    public static final String CERTIFICATE_AUTHORITY = "x509Ca";

    private Credentials() {
    }

    static String sasKey(String base64Key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(base64Key.getBytes(StandardCharsets.US_ASCII));
            return "sas:" + HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token of a shared access policy with DeviceConnect: the identity's own credentials do not matter. */
    static String policy(String keyName) {
        return "policy:" + keyName;
    }

    static String certificate(String sha1, String sha256) {
        return "x509:" + sha1 + ":" + sha256;
    }

    /** Whether {@code credential} still authenticates an identity whose credentials are now {@code current}. */
    public static boolean stillHolds(String credential, Authentication current) {
        if (credential == null || current == null) {
            return false;
        }
        if (credential.startsWith("policy:")) {
            return true;
        }
        if (credential.startsWith("sas:")) {
            return current.isSas() && (credential.equals(sasKey(current.symmetricKey().primaryKey()))
                    || credential.equals(sasKey(current.symmetricKey().secondaryKey())));
        }
        if (credential.startsWith("x509:")) {
            Authentication.X509Thumbprint t = current.x509Thumbprint();
            if (!Authentication.SELF_SIGNED.equals(current.type()) || t == null) {
                return false;
            }
            String[] parts = credential.split(":");
            for (String registered : new String[] {t.primaryThumbprint(), t.secondaryThumbprint()}) {
                if (registered != null && (registered.toUpperCase(Locale.ROOT).equals(parts[1])
                        || registered.toUpperCase(Locale.ROOT).equals(parts[2]))) {
                    return true;
                }
            }
            return false;
        }
        return CERTIFICATE_AUTHORITY.equals(credential)
                && Authentication.CERTIFICATE_AUTHORITY.equals(current.type());
    }
}
