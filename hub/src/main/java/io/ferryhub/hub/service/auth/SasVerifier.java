package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** The checks every SAS token goes through, whoever presents it: form, expiry, scope, signature. */
final class SasVerifier {
    private final HostAliases hosts;
    private final Clock clock;

    SasVerifier(HostAliases hosts, Clock clock) {
        this.hosts = hosts;
        this.clock = clock;
    }

    /** Parses and checks expiry and host; returns the token. */
    SasToken parseCurrent(String tokenText) {
        SasToken token;
        try {
            token = SasToken.parse(tokenText);
        } catch (IllegalArgumentException e) {
            throw unauthorized("malformed SAS token: " + e.getMessage());
        }
        if (token.isExpiredAt(clock.instant())) {
            throw unauthorized("SAS token expired at " + token.expiry());
        }
        String resource = token.resource();
        int slash = resource.indexOf('/');
        String host = slash < 0 ? resource : resource.substring(0, slash);
        if (!hosts.isOwn(host)) {
            throw unauthorized("SAS token is scoped to another host ('" + host + "')");
        }
        return token;
    }

    /** The token's resource path below the host as lower-case segments, e.g. {@code [devices, dev1]}. */
    static List<String> pathSegments(SasToken token) {
        String resource = token.resource();
        int slash = resource.indexOf('/');
        List<String> segments = new ArrayList<>();
        if (slash < 0) {
            return segments;
        }
        for (String s : resource.substring(slash + 1).split("/")) {
            if (!s.isEmpty()) {
                segments.add(s.toLowerCase(Locale.ROOT));
            }
        }
        return segments;
    }

    /**
     * Whether {@code scope} is a prefix of {@code target} by whole segments (so {@code devices/a} covers
     * {@code devices/a/modules/m} but not {@code devices/ab}).
     */
    static boolean covers(List<String> scope, List<String> target) {
        if (scope.size() > target.size()) {
            return false;
        }
        for (int i = 0; i < scope.size(); i++) {
            if (!scope.get(i).equals(target.get(i).toLowerCase(Locale.ROOT))) {
                return false;
            }
        }
        return true;
    }

    /** Checks the signature against both keys, always both, so timing does not tell which one matched. */
    static boolean signedWithEither(SasToken token, String primaryKey, String secondaryKey) {
        boolean primary = signedWith(token, primaryKey);
        boolean secondary = signedWith(token, secondaryKey);
        return primary | secondary;
    }

    /**
     * Whether {@code token} is signed with {@code base64Key} (decoded, IoT Hub's way) or, with {@code keyText},
     * with the key's text as well (Event Hubs' way).
     */
    static boolean signedWith(SasToken token, String base64Key, boolean keyText) {
        boolean decoded = signedWith(token, base64Key);
        boolean text = keyText && base64Key != null && token.isSignedWith(base64Key.getBytes(StandardCharsets.UTF_8));
        return decoded | text;
    }

    private static boolean signedWith(SasToken token, String base64Key) {
        if (base64Key == null) {
            return false;
        }
        return token.isSignedWith(Base64.getDecoder().decode(base64Key));
    }

    /** A refusal: the caller gets IoT Hub's bare 401002; {@code reason} is for the log. */
    static HubException unauthorized(String reason) {
        return new AuthenticationRefused(reason);
    }
}
