package io.ferryhub.hub.adapter.mqtt;

import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the {@code ?$rid=...&$version=...} level of IoT Hub's {@code $iothub/...} request and response topics. */
final class IotHubTopics {
    private IotHubTopics() {
    }

    /** The query fields of the topic's last level (after {@code ?}); empty when there is none. */
    static Map<String, String> queryOf(String topic) {
        Map<String, String> fields = new LinkedHashMap<>();
        int q = topic.lastIndexOf('?');
        if (q < 0) {
            return fields;
        }
        for (String pair : topic.substring(q + 1).split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            fields.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
        }
        return fields;
    }

    /** The status level of {@code $iothub/{feature}/res/{status}/?...}, or -1 when it is not a number. */
    static int statusOf(String topic, String prefix) {
        String rest = topic.substring(prefix.length());
        int slash = rest.indexOf('/');
        try {
            return Integer.parseInt(slash < 0 ? rest : rest.substring(0, slash));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
