package io.ferryhub.hub.service.twin;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.Test;

class TwinRulesTest {
    @Test
    void objectsOfBooleansNumbersStringsAndNullsAreAllowed() {
        assertDoesNotThrow(() -> TwinRules.checkContent("tags", Json.parse(
                "{\"a\":true,\"b\":1.5,\"c\":\"s\",\"d\":null,\"e\":{\"f\":4503599627370495}}")));
    }

    @Test
    void arraysBadKeysHugeIntegersAndDeepNestingAreArgumentInvalid() {
        String deep = "{\"a\":".repeat(11) + "1" + "}".repeat(11);
        for (String bad : new String[] {"[]", "1", "{\"a\":[1]}", "{\"\":1}", "{\"a.b\":1}", "{\"$a\":1}",
                "{\"a b\":1}", "{\"a\\u0001\":1}", "{\"a\":4503599627370496}", "{\"a\":-4503599627370497}",
                "{\"a\":123456789012345678901234567890}", deep,
                "{\"a\":\"" + "x".repeat(4097) + "\"}", "{\"" + "k".repeat(1025) + "\":1}"}) {
            HubException e = assertThrows(HubException.class, () -> TwinRules.checkContent("tags", Json.parse(bad)),
                    bad.length() > 60 ? bad.substring(0, 60) : bad);
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
        }
        assertThrows(HubException.class, () -> TwinRules.checkContent("tags", null));
    }

    @Test
    void tenLevelsOfObjectsAreTheLimit() {
        String ten = "{\"a\":".repeat(9) + "{}" + "}".repeat(9);
        assertDoesNotThrow(() -> TwinRules.checkContent("desired", Json.parse(ten)));
    }

    @Test
    void sizeCountsKeysAndValuesInUtf8() {
        assertEquals(1 + 8 + 1 + 4 + 1 + 2 + 1, TwinRules.sizeOf(Json.parse("{\"a\":1,\"b\":true,\"c\":\"é\",\"d\":null}")));
        assertDoesNotThrow(() -> TwinRules.checkSize("tags", Json.parse("{\"a\":\"" + "x".repeat(100) + "\"}"), 101));
        HubException e = assertThrows(HubException.class,
                () -> TwinRules.checkSize("tags", Json.parse("{\"a\":\"" + "x".repeat(100) + "\"}"), 100));
        assertTrue(e.getMessage().contains("101 bytes"), e.getMessage());
    }
}
