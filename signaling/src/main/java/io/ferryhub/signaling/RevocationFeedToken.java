package io.ferryhub.signaling;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;

/**
 * What a stand-alone gateway presents to subscribe to the hub's revocation feed: a short-lived HS256 JWT signed
 * with the stream token key the two already share, so no other secret is needed. Its audience claim keeps it apart
 * from stream tokens, which devices hold: a stream token does not open the feed, and this token lacks the claims a
 * stream token must have.
 */
public final class RevocationFeedToken {
    static final String AUDIENCE = "ferryhub-revocation-feed";
    private static final String HEADER = Base64.getUrlEncoder().withoutPadding()
            .encodeToString("{\"typ\":\"JWT\",\"alg\":\"HS256\"}".getBytes(StandardCharsets.UTF_8));

    private RevocationFeedToken() {
    }

    public static String sign(byte[] key, Instant expiry) {
        String claims = Base64.getUrlEncoder().withoutPadding().encodeToString(Json.toBytes(Json.object()
                .put("aud", AUDIENCE).put("exp", expiry.getEpochSecond())));
        String input = HEADER + "." + claims;
        return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(StreamToken.hmac(key, input));
    }

    /** Checks the signature (constant time), the audience and the expiry. */
    public static void verify(String token, byte[] key, Instant now) throws StreamToken.InvalidTokenException {
        if (token == null) {
            throw new StreamToken.InvalidTokenException("no feed token");
        }
        int first = token.indexOf('.');
        int last = token.lastIndexOf('.');
        if (first <= 0 || last == first) {
            throw new StreamToken.InvalidTokenException("feed token is not of the form header.claims.signature");
        }
        byte[] presented;
        JsonNode claims;
        try {
            presented = Base64.getUrlDecoder().decode(token.substring(last + 1));
            if (!MessageDigest.isEqual(presented, StreamToken.hmac(key, token.substring(0, last)))) {
                throw new StreamToken.InvalidTokenException("feed token signature does not match");
            }
            claims = Json.parse(Base64.getUrlDecoder().decode(token.substring(first + 1, last)));
        } catch (IllegalArgumentException e) {
            throw new StreamToken.InvalidTokenException("feed token is malformed");
        }
        if (!AUDIENCE.equals(claims.path("aud").asText(null))) {
            throw new StreamToken.InvalidTokenException("not a revocation feed token");
        }
        if (!now.isBefore(Instant.ofEpochSecond(claims.path("exp").asLong(0)))) {
            throw new StreamToken.InvalidTokenException("feed token expired");
        }
    }
}
