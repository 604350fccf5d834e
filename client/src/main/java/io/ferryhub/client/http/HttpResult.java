package io.ferryhub.client.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP response as the hub's clients need it.
 *
 * @param headers header names lower-cased; the first value of each
 */
public record HttpResult(int status, Map<String, String> headers, byte[] body) {
    public String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
        return Json.parse(body);
    }

    public boolean isSuccess() {
        return status >= 200 && status < 300;
    }

    /**
     * The reason of an IoT Hub error response: the inner {@code message} of the
     * {@code {"Message":"{\"errorCode\":...,\"message\":...}"}} body, with its error code, or the raw body.
     */
    public String errorReason() {
        String code = header("iothub-errorcode");
        try {
            JsonNode outer = json();
            JsonNode message = outer.path("Message");
            if (message.isTextual()) {
                JsonNode inner = Json.parse(message.asText());
                String text = inner.path("message").asText(message.asText());
                int errorCode = inner.path("errorCode").asInt(0);
                return (errorCode != 0 ? errorCode + " " : "") + (code != null ? code + ": " : "") + text;
            }
        } catch (IllegalArgumentException notJson) {
            // fall through to the raw body
        }
        String text = bodyText().trim();
        return "HTTP " + status + (code != null ? " " + code : "") + (text.isEmpty() ? "" : ": " + text);
    }
}
