package io.ferryhub.hub.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SasVerifierTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final String KEY = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
    private static final String OTHER = Base64.getEncoder().encodeToString("fedcba9876543210fedcba9876543210".getBytes());
    private final SasVerifier verifier = new SasVerifier(new HostAliases("hub.example", Set.of("localhost")),
            Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void aCurrentTokenForOneOfTheHubsNamesIsAccepted() {
        SasToken t = verifier.parseCurrent(SasToken.create("HUB.example/devices/d1", KEY, null, NOW.plusSeconds(60)));
        assertEquals(List.of("devices", "d1"), SasVerifier.pathSegments(t));
        verifier.parseCurrent(SasToken.create("localhost:8443/devices/d1", KEY, null, NOW.plusSeconds(60)));
    }

    @Test
    void expiredMalformedAndForeignTokensAreUnauthorized() {
        for (String bad : new String[] {
            SasToken.create("hub.example/devices/d1", KEY, null, NOW.minusSeconds(1)),
            SasToken.create("other.example/devices/d1", KEY, null, NOW.plusSeconds(60)),
            "SharedAccessSignature sr=hub.example&sig=x",
            "not a token",
            ""}) {
            HubException e = assertThrows(HubException.class, () -> verifier.parseCurrent(bad), bad);
            assertEquals(HubErrorCode.IotHubUnauthorizedAccess, e.errorCode(), bad);
        }
    }

    @Test
    void aScopeCoversTargetsByWholeSegmentsIgnoringCase() {
        List<String> scope = List.of("devices", "d1");
        assertTrue(SasVerifier.covers(scope, List.of("devices", "d1")));
        assertTrue(SasVerifier.covers(scope, List.of("Devices", "D1", "modules", "m1")));
        assertFalse(SasVerifier.covers(scope, List.of("devices", "d10")), "a segment prefix is not the segment");
        assertFalse(SasVerifier.covers(scope, List.of("devices")));
        assertTrue(SasVerifier.covers(List.of(), List.of("anything")), "the hub's name alone covers all of it");
    }

    @Test
    void eitherKeyMaySign() {
        SasToken signedWithOther = SasToken.parse(SasToken.create("hub.example", OTHER, null, NOW.plusSeconds(60)));
        assertTrue(SasVerifier.signedWithEither(signedWithOther, KEY, OTHER));
        assertTrue(SasVerifier.signedWithEither(signedWithOther, OTHER, null));
        assertFalse(SasVerifier.signedWithEither(signedWithOther, KEY, null));
        assertFalse(SasVerifier.signedWithEither(signedWithOther, null, null));
    }
}
