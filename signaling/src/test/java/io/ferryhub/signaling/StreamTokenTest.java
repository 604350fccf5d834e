package io.ferryhub.signaling;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamTokenTest {
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void isAUrlSafeHs256JwtThatRoundTrips() throws Exception {
        StreamToken token = new StreamToken("a58c0d", "hub1", "dev 1", "mod/1", "ssh", "service",
                NOW.plusSeconds(90), null, StreamToken.Side.SERVICE);
        String signed = token.sign(KEY);
        assertTrue(signed.matches("[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]+"), signed);
        assertEquals("{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
                new String(Base64.getUrlDecoder().decode(signed.split("\\.")[0]), StandardCharsets.UTF_8));
        assertEquals(token, StreamToken.verify(signed, KEY, NOW));
    }

    @Test
    void carriesTheIdOfTheInitiatorsKey() throws Exception {
        StreamToken token = new StreamToken("s2", "hub1", "dev1", null, "ssh", "team-a", NOW.plusSeconds(90), null,
                StreamToken.Side.DEVICE, "0123456789abcdef");
        StreamToken parsed = StreamToken.verify(token.sign(KEY), KEY, NOW);
        assertEquals(token, parsed);
        assertEquals("0123456789abcdef", parsed.forSide(StreamToken.Side.SERVICE).initiatorKey());
        assertEquals(null, StreamToken.verify(new StreamToken("s3", "hub1", "dev1", null, "ssh", "team-a",
                NOW.plusSeconds(90), null, null).sign(KEY), KEY, NOW).initiatorKey(), "older tokens name none");
    }

    @Test
    void refusesATamperedClaim() {
        String signed = new StreamToken("s1", "hub1", "dev1", null, "ssh", "service", NOW.plusSeconds(90), null,
                null).sign(KEY);
        String[] parts = signed.split("\\.");
        String otherClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"jti\":\"s1\",\"iothub\":\"hub1\",\"dev\":\"dev2\",\"name\":\"ssh\",\"by\":\"service\",\"exp\":"
                        + NOW.plusSeconds(90).getEpochSecond() + "}").getBytes(StandardCharsets.UTF_8));
        StreamToken.InvalidTokenException e = assertThrows(StreamToken.InvalidTokenException.class,
                () -> StreamToken.verify(parts[0] + "." + otherClaims + "." + parts[2], KEY, NOW));
        assertEquals("stream token signature does not match", e.getMessage());
    }

    @Test
    void refusesAnExpiredToken() {
        String signed = new StreamToken("s1", "hub1", "dev1", null, "ssh", "service", NOW, null, null).sign(KEY);
        assertThrows(StreamToken.InvalidTokenException.class, () -> StreamToken.verify(signed, KEY, NOW));
    }

    @Test
    void refusesGarbage() {
        for (String garbage : new String[] {"", "abc", "a.b", "a..", "a.b.!!!"}) {
            assertThrows(StreamToken.InvalidTokenException.class, () -> StreamToken.verify(garbage, KEY, NOW),
                    garbage);
        }
    }

    @Test
    void bridgePathNamesHubDeviceModuleAndStream() {
        assertEquals("/bridges/hub1/dev%201/abc", BridgePath.of("hub1", "dev 1", null, "abc"));
        assertEquals("/bridges/hub1/dev1/modules/m%2F1/abc", BridgePath.of("hub1", "dev1", "m/1", "abc"));
    }
}
