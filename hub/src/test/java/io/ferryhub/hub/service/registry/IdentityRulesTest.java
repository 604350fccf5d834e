package io.ferryhub.hub.service.registry;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class IdentityRulesTest {
    @Test
    void idsAreUpTo128AllowedAsciiCharacters() {
        assertDoesNotThrow(() -> IdentityRules.checkDeviceId("a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r"));
        assertDoesNotThrow(() -> IdentityRules.checkModuleId("x".repeat(128)));
        assertEquals(HubErrorCode.ArgumentNull,
                assertThrows(HubException.class, () -> IdentityRules.checkDeviceId("")).errorCode());
        assertEquals(HubErrorCode.ArgumentNull,
                assertThrows(HubException.class, () -> IdentityRules.checkDeviceId(null)).errorCode());
        for (String bad : new String[] {"x".repeat(129), "a/b", "a b", "dé", "a\0b", "a&b", "<x>"}) {
            HubException e = assertThrows(HubException.class, () -> IdentityRules.checkModuleId(bad), bad);
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
        }
    }

    @Test
    void keysAreBase64Of16To64Bytes() {
        String b64 = Base64.getEncoder().encodeToString(new byte[16]);
        assertDoesNotThrow(() -> IdentityRules.checkKey(b64, "primaryKey"));
        assertDoesNotThrow(() -> IdentityRules.checkKey(Base64.getEncoder().encodeToString(new byte[64]), "k"));
        for (String bad : new String[] {"not base64!", Base64.getEncoder().encodeToString(new byte[15]),
                Base64.getEncoder().encodeToString(new byte[65])}) {
            assertEquals(HubErrorCode.ArgumentInvalid,
                    assertThrows(HubException.class, () -> IdentityRules.checkKey(bad, "k")).errorCode());
        }
        assertEquals(32, Base64.getDecoder().decode(IdentityRules.newKey()).length);
    }

    @Test
    void thumbprintsAreSha1OrSha256HexNormalisedToUpperCase() {
        String sha1 = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01";
        assertEquals("ABCDEF0123456789ABCDEF0123456789ABCDEF01", IdentityRules.checkThumbprint(sha1, "t"));
        assertEquals(64, IdentityRules.checkThumbprint("a".repeat(64), "t").length());
        assertNull(IdentityRules.checkThumbprint("", "t"));
        assertNull(IdentityRules.checkThumbprint(null, "t"));
        assertThrows(HubException.class, () -> IdentityRules.checkThumbprint("a".repeat(41), "t"));
        assertThrows(HubException.class, () -> IdentityRules.checkThumbprint("g".repeat(40), "t"));
    }

    @Test
    void generationIdsIncrease() {
        long a = Long.parseLong(IdentityRules.newGenerationId());
        long b = Long.parseLong(IdentityRules.newGenerationId());
        assertTrue(b > a);
        assertTrue(IdentityRules.abbreviate("x".repeat(200)).endsWith("..."));
    }
}
