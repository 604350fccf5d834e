package io.ferryhub.hub.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IotHubTopicsTest {
    @Test
    void theQueryOfTheLastLevelIsReadInOrder() {
        Map<String, String> q = IotHubTopics.queryOf("$iothub/twin/PATCH/properties/reported/?$rid=42&$version=7");
        assertEquals(List.of("$rid", "$version"), List.copyOf(q.keySet()));
        assertEquals("42", q.get("$rid"));
        assertEquals("7", q.get("$version"));
    }

    @Test
    void emptyPairsAreSkippedAndAKeyAloneHasAnEmptyValue() {
        assertEquals(Map.of("a", "", "b", "2"), IotHubTopics.queryOf("x/?&a&&b=2&"));
        assertTrue(IotHubTopics.queryOf("$iothub/twin/GET/").isEmpty());
        assertEquals(Map.of("c", "3"), IotHubTopics.queryOf("a?b=1/x?c=3"), "only after the last '?'");
    }

    @Test
    void theStatusLevelIsANumberOrMinusOne() {
        String prefix = "$iothub/twin/res/";
        assertEquals(200, IotHubTopics.statusOf("$iothub/twin/res/200/?$rid=1", prefix));
        assertEquals(204, IotHubTopics.statusOf("$iothub/twin/res/204", prefix));
        assertEquals(-1, IotHubTopics.statusOf("$iothub/twin/res/ok/?$rid=1", prefix));
        assertEquals(-1, IotHubTopics.statusOf("$iothub/twin/res/", prefix));
        assertEquals(-1, IotHubTopics.statusOf("$iothub/twin/res/99999999999/", prefix));
    }
}
