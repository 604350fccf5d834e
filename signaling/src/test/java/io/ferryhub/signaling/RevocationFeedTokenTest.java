package io.ferryhub.signaling;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The revocation feed's token shares the stream token key, so neither kind may pass for the other: devices hold
 * stream tokens and must not be able to follow the feed.
 */
class RevocationFeedTokenTest {
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void aFeedTokenOpensTheFeedUntilItExpires() throws Exception {
        String token = RevocationFeedToken.sign(KEY, NOW.plusSeconds(300));
        assertDoesNotThrow(() -> RevocationFeedToken.verify(token, KEY, NOW));
        assertEquals("feed token expired", assertThrows(StreamToken.InvalidTokenException.class,
                () -> RevocationFeedToken.verify(token, KEY, NOW.plusSeconds(300))).getMessage());
        assertEquals("feed token signature does not match", assertThrows(StreamToken.InvalidTokenException.class,
                () -> RevocationFeedToken.verify(token, "another key, 32 bytes long......"
                        .getBytes(StandardCharsets.US_ASCII), NOW)).getMessage());
    }

    @Test
    void aStreamTokenDoesNotOpenTheFeedNorAFeedTokenAStream() {
        String stream = new StreamToken("s1", "hub1", "dev1", null, "ssh", "service", NOW.plusSeconds(90), null,
                StreamToken.Side.DEVICE).sign(KEY);
        assertEquals("not a revocation feed token", assertThrows(StreamToken.InvalidTokenException.class,
                () -> RevocationFeedToken.verify(stream, KEY, NOW)).getMessage());
        String feed = RevocationFeedToken.sign(KEY, NOW.plusSeconds(300));
        assertThrows(StreamToken.InvalidTokenException.class, () -> StreamToken.verify(feed, KEY, NOW));
    }

    @Test
    void aDevicesRevocationCoversItsModulesButItsPolicyOnlyItself() {
        StreamRevocation disabled = new StreamRevocation(1, StreamRevocation.Reason.DISABLED, "d", null, null, NOW);
        assertTrue(disabled.covers("d", null));
        assertTrue(disabled.covers("d", "m"));
        assertFalse(disabled.covers("other", null));
        StreamRevocation policy = new StreamRevocation(2, StreamRevocation.Reason.POLICY_CHANGED, "d", null,
                new StreamPolicy(List.of(), false), NOW);
        assertTrue(policy.covers("d", null));
        assertFalse(policy.covers("d", "m"));
        StreamRevocation module = new StreamRevocation(3, StreamRevocation.Reason.REKEYED, "d", "m", null, NOW);
        assertFalse(module.covers("d", null));
        assertTrue(module.covers("d", "m"));
        assertEquals(policy, StreamRevocation.fromJson(policy.toJson()));
        assertEquals(module, StreamRevocation.fromJson(module.toJson()));
    }
}
