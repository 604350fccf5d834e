package io.ferryhub.hub.service;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EtagsTest {
    @Test
    void newEtagsAreBase64OfEightRandomBytesAndDiffer() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String etag = Etags.newEtag();
            assertEquals(8, Base64.getDecoder().decode(etag).length);
            seen.add(etag);
        }
        assertEquals(100, seen.size());
    }

    @Test
    void ifMatchAcceptsNoConditionAStarAndTheCurrentEtagQuotedOrNot() {
        assertDoesNotThrow(() -> Etags.check(null, "abc"));
        assertDoesNotThrow(() -> Etags.check("*", "abc"));
        assertDoesNotThrow(() -> Etags.check("\"*\"", "abc"));
        assertDoesNotThrow(() -> Etags.check("abc", "abc"));
        assertDoesNotThrow(() -> Etags.check(" \"abc\" ", "abc"));
    }

    @Test
    void aDifferentEtagIsPreconditionFailedWithAnAbbreviatedEcho() {
        HubException e = assertThrows(HubException.class, () -> Etags.check("\"old\"", "new"));
        assertEquals(HubErrorCode.PreconditionFailed, e.errorCode());
        assertTrue(e.getMessage().contains("(old)") && e.getMessage().contains("(new)"), e.getMessage());
        HubException longOne = assertThrows(HubException.class, () -> Etags.check("x".repeat(500), "new"));
        assertTrue(longOne.getMessage().length() < 200, "a long If-Match is cut in the message");
        // a lone quote is not a quoted etag
        assertThrows(HubException.class, () -> Etags.check("\"", "new"));
        assertNotEquals(Etags.newEtag(), Etags.newEtag());
    }
}
