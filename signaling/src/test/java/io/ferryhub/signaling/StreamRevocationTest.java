package io.ferryhub.signaling;

import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class StreamRevocationTest {
    private static final Instant AT = Instant.parse("2026-12-08T00:00:00Z");

    private static StreamToken token(String device, String initiator, String keyId) {
        return new StreamToken("s-" + device + initiator + keyId, "hub", device, null, "ssh", initiator,
                AT.plusSeconds(60), null, null, keyId);
    }

    @Test
    void anInitiatorKeyRevocationCoversTheStreamsThatKeyAskedForOnWhateverDevice() {
        StreamRevocation r = StreamRevocation.initiatorKeys(7, "team-a", Set.of("k1", "k2"), AT);
        assertTrue(r.covers(token("dev1", "team-a", "k1")));
        assertTrue(r.covers(token("dev2", "team-a", "k2")));
        assertFalse(r.covers(token("dev1", "team-a", "k3")), "another key of the policy");
        assertFalse(r.covers(token("dev1", "team-b", "k1")), "another policy");
        assertTrue(r.covers(token("dev1", "team-a", null)), "a token naming no key cannot be told apart");
        assertFalse(r.covers("dev1", null), "it concerns no identity");
        assertEquals("streams initiated by policy team-a", r.identity());
    }

    @Test
    void anIdentityRevocationStillCoversByIdentity() {
        StreamRevocation r = new StreamRevocation(1, StreamRevocation.Reason.DISABLED, "dev1", null, null, AT);
        assertTrue(r.covers(token("dev1", "team-a", "k1")));
        assertFalse(r.covers(token("dev2", "team-a", "k1")));
    }

    @Test
    void roundTripsThroughTheFeedsJson() {
        StreamRevocation r = StreamRevocation.initiatorKeys(0, "team-a", Set.of("k1", "k2"), AT).numbered(9);
        assertEquals(r, StreamRevocation.fromJson(Json.parse(Json.toBytes(r.toJson()))));
        StreamRevocation identity = new StreamRevocation(3, StreamRevocation.Reason.REKEYED, "dev1", "m1", null, AT,
                Set.of("s1"), Set.of("s2"));
        assertEquals(identity, StreamRevocation.fromJson(Json.parse(Json.toBytes(identity.toJson()))));
    }

    @Test
    void refusesAnInitiatorKeyRevocationThatNamesNoPolicy() {
        assertThrows(IllegalArgumentException.class, () -> StreamRevocation.fromJson(Json.parse(
                "{\"seq\":1,\"reason\":\"initiator_key_revoked\",\"initiatorKeys\":[\"k1\"]}")));
    }
}
