package io.ferryhub.signaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;

/**
 * The bearer token an end of a stream presents to the streaming gateway: a JWT signed with HMAC-SHA256 (the shape
 * IoT Hub itself hands out), so it is URL-safe as the MQTT {@code $auth} field needs, and a gateway holding the
 * shared key verifies it without calling the hub. It names one stream of one device (or module) of one hub and the
 * side it is for (the device's end gets one token, the service's another), and expires when the stream's handshake
 * window closes.
 *
 * @param moduleId  null for a device stream
 * @param initiator the shared access policy that asked for the stream, for the gateway's log
 * @param grant     the identity's stream policy narrowed to this initiator and stream name, which the gateway applies
 *                  to each tunnel channel; null when the identity has no policy
 * @param side      which end presents it; null for a token issued before tokens named their side
 * @param initiatorKey the id of the initiator's key that asked for the stream (a one-way hash, see the hub's
 *                  {@code SharedAccessPolicy.keyId}): when that key is regenerated, the stream is closed and its
 *                  tokens refused, and streams another key asked for are not; null when unknown
 */
public record StreamToken(String streamId, String hubName, String deviceId, String moduleId, String streamName,
                          String initiator, Instant expiry, StreamPolicy grant, Side side, String initiatorKey) {
    /** A token that names no initiator key (as tokens issued before they did). */
    public StreamToken(String streamId, String hubName, String deviceId, String moduleId, String streamName,
                       String initiator, Instant expiry, StreamPolicy grant, Side side) {
        this(streamId, hubName, deviceId, moduleId, streamName, initiator, expiry, grant, side, null);
    }

    private static final String HEADER = b64(("{\"typ\":\"JWT\",\"alg\":\"HS256\"}").getBytes(StandardCharsets.UTF_8));
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    /** The two ends of a stream. */
    public enum Side {
        DEVICE, SERVICE;

        /** As the token's claim and a recording's header spell it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The side a label names, or null for an unknown one. */
        public static Side ofLabel(String label) {
            for (Side s : values()) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            return null;
        }
    }

    /** The same stream's token for the other side. */
    public StreamToken forSide(Side side) {
        return new StreamToken(streamId, hubName, deviceId, moduleId, streamName, initiator, expiry, grant, side,
                initiatorKey);
    }

    /** Why a presented token is refused; the message goes to the log and the 401 body, never the token itself. */
    public static final class InvalidTokenException extends Exception {
        public InvalidTokenException(String message) {
            super(message);
        }
    }

    /** The signed, URL-safe form. */
    public String sign(byte[] key) {
        ObjectNode claims = Json.object()
                .put("jti", streamId)
                .put("iothub", hubName)
                .put("dev", deviceId)
                .put("name", streamName)
                .put("by", initiator)
                .put("exp", expiry.getEpochSecond());
        if (moduleId != null) {
            claims.put("mod", moduleId);
        }
        if (grant != null) {
            claims.set("pol", grant.toJson());
        }
        if (side != null) {
            claims.put("side", side.label());
        }
        if (initiatorKey != null) {
            claims.put("kid", initiatorKey);
        }
        String signingInput = HEADER + "." + b64(Json.toBytes(claims));
        return signingInput + "." + b64(hmac(key, signingInput));
    }

    /** Checks the signature (in constant time) and the expiry, and returns the claims. */
    public static StreamToken verify(String token, byte[] key, Instant now) throws InvalidTokenException {
        if (token == null || token.isEmpty()) {
            throw new InvalidTokenException("no stream token");
        }
        int first = token.indexOf('.');
        int last = token.lastIndexOf('.');
        if (first <= 0 || last == first || last == token.length() - 1) {
            throw new InvalidTokenException("stream token is not of the form header.claims.signature");
        }
        String signingInput = token.substring(0, last);
        byte[] presented;
        try {
            presented = DECODER.decode(token.substring(last + 1));
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("stream token signature is not base64url");
        }
        if (!MessageDigest.isEqual(presented, hmac(key, signingInput))) {
            throw new InvalidTokenException("stream token signature does not match");
        }
        StreamToken parsed;
        try {
            JsonNode claims = Json.parse(DECODER.decode(token.substring(first + 1, last)));
            parsed = new StreamToken(text(claims, "jti"), text(claims, "iothub"), text(claims, "dev"),
                    claims.hasNonNull("mod") ? claims.get("mod").asText() : null, text(claims, "name"),
                    text(claims, "by"),
                    Instant.ofEpochSecond(claims.path("exp").asLong(0)),
                    claims.hasNonNull("pol") ? StreamPolicy.fromJson(claims.get("pol")) : null,
                    Side.ofLabel(claims.path("side").asText(null)), claims.path("kid").asText(null));
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("stream token claims are malformed: " + e.getMessage());
        }
        if (!now.isBefore(parsed.expiry())) {
            throw new InvalidTokenException("stream token expired at " + parsed.expiry());
        }
        return parsed;
    }

    private static String text(JsonNode claims, String name) {
        JsonNode value = claims.get(name);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw new IllegalArgumentException("claim '" + name + "' missing");
        }
        return value.asText();
    }

    static byte[] hmac(byte[] key, String input) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(input.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
