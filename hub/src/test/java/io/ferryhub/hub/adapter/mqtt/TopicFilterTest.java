package io.ferryhub.hub.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TopicFilterTest {
    @Test
    void wildcardsMustBeWholeLevelsAndHashOnlyLast() {
        for (String ok : new String[] {"#", "+", "a/b", "a/+/c", "a/#", "+/+/#", "$iothub/twin/res/#", "a//b", "/"}) {
            assertTrue(TopicFilter.isValid(ok), ok);
        }
        for (String bad : new String[] {null, "", "a#", "a/#/b", "a/b#", "a+/b", "a/+b", "##", "#/a"}) {
            assertFalse(TopicFilter.isValid(bad), String.valueOf(bad));
        }
    }

    @Test
    void plusMatchesOneLevelAndHashTheRestIncludingTheParent() {
        assertTrue(TopicFilter.matches("a/+/c", "a/b/c"));
        assertFalse(TopicFilter.matches("a/+/c", "a/b/x/c"));
        assertTrue(TopicFilter.matches("a/+", "a/"));
        assertTrue(TopicFilter.matches("a/#", "a/b/c/d"));
        assertTrue(TopicFilter.matches("a/#", "a"));
        assertFalse(TopicFilter.matches("a/b", "a/b/c"));
        assertFalse(TopicFilter.matches("a/b/c", "a/b"));
        assertTrue(TopicFilter.matches("devices/d1/messages/devicebound/#",
                "devices/d1/messages/devicebound/%24.mid=1"));
    }

    @Test
    void dollarTopicsMatchOnlyFiltersStartingWithDollar() {
        assertFalse(TopicFilter.matches("#", "$iothub/methods/POST/x"));
        assertFalse(TopicFilter.matches("+/methods/#", "$iothub/methods/POST/x"));
        assertTrue(TopicFilter.matches("$iothub/methods/POST/#", "$iothub/methods/POST/x/?$rid=1"));
        assertFalse(TopicFilter.matches("$iothub/#", "iothub/x"));
    }
}
