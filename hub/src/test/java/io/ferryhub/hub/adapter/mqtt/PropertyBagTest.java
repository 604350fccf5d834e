package io.ferryhub.hub.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PropertyBagTest {
    @Test
    void keysAndValuesArePercentDecodedInOrder() {
        Map<String, String> bag = PropertyBag.parse("%24.mid=42&$.ct=application%2Fjson&name=a%20b+c&empty=&flag");
        assertEquals(List.of("$.mid", "$.ct", "name", "empty", "flag"), List.copyOf(bag.keySet()));
        assertEquals("42", bag.get("$.mid"));
        assertEquals("application/json", bag.get("$.ct"));
        assertEquals("", bag.get("empty"));
        assertNull(bag.get("flag"), "a key alone has a null value");
        assertTrue(bag.containsKey("flag"));
    }

    @Test
    void anEmptyBagAndEmptyPairsGiveNothing() {
        assertTrue(PropertyBag.parse("").isEmpty());
        assertEquals(Map.of("a", "1"), PropertyBag.parse("&&a=1&"));
    }

    @Test
    void malformedEscapesAndEmptyKeysAreArgumentInvalid() {
        for (String bad : new String[] {"a=%zz", "%4=1", "=value", "a=1&%=2"}) {
            HubException e = assertThrows(HubException.class, () -> PropertyBag.parse(bad), bad);
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode(), bad);
        }
    }

    @Test
    void appendEncodesAndParseReadsItBack() {
        Map<String, String> original = new LinkedHashMap<>();
        original.put("$.mid", "id&1=2");
        original.put("ünï cödé", "100% / ok");
        original.put("nothing", null);
        StringBuilder bag = new StringBuilder();
        original.forEach((k, v) -> PropertyBag.append(bag, k, v));
        assertTrue(bag.indexOf(" ") < 0 && bag.toString().split("&").length == 3, bag.toString());
        assertEquals(original, PropertyBag.parse(bag.toString()));
    }
}
