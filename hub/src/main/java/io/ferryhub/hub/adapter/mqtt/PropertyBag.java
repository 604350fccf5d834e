package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.PercentEncoding;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * IoT Hub's MQTT property bag: the last topic level, {@code key=value&key2=value2}, URL-encoded. A key alone means
 * a null value, {@code key=} an empty one. Device SDKs disagree on encoding the {@code $} of system properties
 * ({@code $.mid} from Java, {@code %24.mid} from C and Node), so keys are decoded before anyone looks at them.
 */
final class PropertyBag {
    private PropertyBag() {
    }

    /**
     * Decodes a bag; keys keep their order. Malformed escapes fail with {@code ArgumentInvalid}, which closes the
     * connection as IoT Hub does.
     */
    static Map<String, String> parse(String bag) {
        Map<String, String> properties = new LinkedHashMap<>();
        if (bag.isEmpty()) {
            return properties;
        }
        for (String pair : bag.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String key = PercentEncoding.decode(eq < 0 ? pair : pair.substring(0, eq), true);
                String value = eq < 0 ? null : PercentEncoding.decode(pair.substring(eq + 1), true);
                if (key.isEmpty()) {
                    throw new HubException(HubErrorCode.ArgumentInvalid, "property bag has an empty key");
                }
                properties.put(key, value);
            } catch (IllegalArgumentException e) {
                throw new HubException(HubErrorCode.ArgumentInvalid, "malformed property bag: " + e.getMessage());
            }
        }
        return properties;
    }

    /** Appends {@code key=value} (or just {@code key} for a null value), both percent-encoded. */
    static void append(StringBuilder bag, String key, String value) {
        if (!bag.isEmpty()) {
            bag.append('&');
        }
        bag.append(PercentEncoding.encode(key));
        if (value != null) {
            bag.append('=').append(PercentEncoding.encode(value));
        }
    }
}
