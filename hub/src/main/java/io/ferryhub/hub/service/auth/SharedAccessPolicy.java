package io.ferryhub.hub.service.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;

/** A hub-level shared access policy: a named key pair granting permissions, as IoT Hub's {@code iothubowner}. */
public record SharedAccessPolicy(String keyName, String primaryKey, String secondaryKey, Set<Permission> rights) {
    public SharedAccessPolicy {
        rights = Set.copyOf(rights);
    }

    /**
     * A short public name of a key, so that what a key signed (a service connection, a stream and its token) can be
     * told apart from what the policy's other key signed, and closed when that key is regenerated, without the key
     * itself leaving the hub. A one-way hash: it tells nothing of the key.
     */
    public static String keyId(String key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("ferryhub shared access key id\0".getBytes(StandardCharsets.US_ASCII));
            byte[] digest = sha.digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
