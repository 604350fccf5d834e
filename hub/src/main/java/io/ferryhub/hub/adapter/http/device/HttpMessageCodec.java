package io.ferryhub.hub.adapter.http.device;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.telemetry.DeviceMessage;
import io.netty.handler.codec.http.HttpHeaders;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Device-to-cloud messages as IoT Hub's HTTPS API carries them: system properties in {@code iothub-*} headers,
 * application properties in {@code iothub-app-*} headers; a batch is a JSON array of
 * {@code {"body": ..., "base64Encoded": bool, "properties": {"iothub-app-k": "v", "iothub-messageid": ...}}}.
 */
final class HttpMessageCodec {
    static final String APP_PROPERTY_PREFIX = "iothub-app-";

    /** HTTPS header names of the system properties a device may set, and the names the event stream uses. */
    private static final Map<String, String> SYSTEM_PROPERTIES = Map.ofEntries(
            Map.entry("iothub-messageid", "message-id"),
            Map.entry("iothub-correlationid", "correlation-id"),
            Map.entry("iothub-userid", "user-id"),
            Map.entry("iothub-to", "to"),
            Map.entry("iothub-expiry", "absolute-expiry-time"),
            Map.entry("iothub-contenttype", "content-type"),
            Map.entry("iothub-contentencoding", "content-encoding"),
            Map.entry("iothub-creation-time-utc", "creation-time"),
            Map.entry("iothub-interface-id", "iothub-interface-id"),
            Map.entry("dt-subject", "dt-subject"),
            Map.entry("iothub-outputname", "output-name"));

    private HttpMessageCodec() {
    }

    static DeviceMessage single(HttpHeaders headers, byte[] body) {
        Map<String, String> system = new LinkedHashMap<>();
        Map<String, String> application = new LinkedHashMap<>();
        for (Map.Entry<String, String> header : headers) {
            put(header.getKey(), header.getValue(), system, application);
        }
        return new DeviceMessage(system, application, body);
    }

    /** @param maxMessages the most messages one batch may hold; a longer batch is refused before any is decoded */
    static List<DeviceMessage> batch(byte[] body, int maxMessages) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new HubException(HubErrorCode.IotHubFormatError, "the batch is not valid JSON");
        }
        if (root == null || !root.isArray()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "the batch must be a JSON array of messages");
        }
        if (root.size() > maxMessages) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the batch holds " + root.size()
                    + " messages; at most " + maxMessages + " are accepted in one batch");
        }
        List<DeviceMessage> messages = new ArrayList<>();
        for (JsonNode item : root) {
            if (!item.isObject() || !item.has("body") || !item.get("body").isTextual()) {
                throw new HubException(HubErrorCode.IotHubFormatError,
                        "every batch entry needs a string \"body\"");
            }
            String text = item.get("body").asText();
            byte[] payload;
            if (item.path("base64Encoded").asBoolean(false)) {
                try {
                    payload = Base64.getDecoder().decode(text);
                } catch (IllegalArgumentException e) {
                    throw new HubException(HubErrorCode.IotHubFormatError, "a batch body is not valid base64");
                }
            } else {
                payload = text.getBytes(StandardCharsets.UTF_8);
            }
            Map<String, String> system = new LinkedHashMap<>();
            Map<String, String> application = new LinkedHashMap<>();
            JsonNode properties = item.path("properties");
            if (properties.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> p = it.next();
                    put(p.getKey(), p.getValue().isNull() ? "" : p.getValue().asText(), system, application);
                }
            }
            messages.add(new DeviceMessage(system, application, payload));
        }
        return messages;
    }

    private static void put(String name, String value, Map<String, String> system, Map<String, String> application) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith(APP_PROPERTY_PREFIX) && lower.length() > APP_PROPERTY_PREFIX.length()) {
            String key = name.substring(APP_PROPERTY_PREFIX.length());
            checkToken(key);
            application.put(key, value);
            return;
        }
        String systemName = SYSTEM_PROPERTIES.get(lower);
        if (systemName != null) {
            system.put(systemName, value);
        }
    }

    /** IoT Hub allows only RFC 7230 token characters in HTTPS property names. */
    private static void checkToken(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                throw new HubException(HubErrorCode.ArgumentInvalid, "property name '" + name
                        + "' must be ASCII letters, digits or !#$%&'*+-.^_`|~");
            }
        }
    }
}
