package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * IoT Hub's rules for twin content: key characters and length, value types and ranges, depth, and each section's
 * size counted as IoT Hub counts it (key bytes + string value bytes, 8 per number, 4 per boolean). A violation is
 * a 400 with {@code ArgumentInvalid}; callers check before storing, so nothing is partially applied.
 */
public final class TwinRules {
    public static final int MAX_TAGS_BYTES = 8 * 1024;
    public static final int MAX_DESIRED_BYTES = 32 * 1024;
    public static final int MAX_REPORTED_BYTES = 32 * 1024;
    static final int MAX_DEPTH = 10;
    static final int MAX_KEY_BYTES = 1024;
    static final int MAX_STRING_BYTES = 4 * 1024;
    static final long MAX_INTEGER = 4503599627370495L;
    static final long MIN_INTEGER = -4503599627370496L;

    private TwinRules() {
    }

    /**
     * Checks a patch (or a replacement) of one section: {@code null} values are allowed (they delete); arrays are not
     * (IoT Hub's twin format has booleans, numbers, strings and objects only).
     */
    public static void checkContent(String section, JsonNode content) {
        if (content == null || !content.isObject()) {
            throw invalid(section + " must be a JSON object");
        }
        checkObject(section, content, 1);
    }

    /** Checks a section's size once a patch is applied. */
    public static void checkSize(String section, JsonNode data, int maxBytes) {
        long size = sizeOf(data);
        if (size > maxBytes) {
            throw invalid("The size of " + section + " (" + size + " bytes) would exceed its limit of " + maxBytes
                    + " bytes");
        }
    }

    private static void checkObject(String path, JsonNode object, int depth) {
        if (depth > MAX_DEPTH) {
            throw invalid(path + " nests objects deeper than " + MAX_DEPTH + " levels");
        }
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            checkKey(path, field.getKey());
            checkValue(path + "." + field.getKey(), field.getValue(), depth);
        }
    }

    private static void checkValue(String path, JsonNode value, int depth) {
        if (value.isObject()) {
            checkObject(path, value, depth + 1);
        } else if (value.isArray()) {
            throw invalid(path + ": arrays are not allowed in twin tags and properties (values are booleans, numbers,"
                    + " strings and objects; null deletes a key)");
        } else if (value.isNull()) {
            // deletes the key
        } else if (value.isTextual()) {
            if (value.textValue().getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
                throw invalid(path + ": strings may be at most " + MAX_STRING_BYTES + " bytes");
            }
        } else if (value.isIntegralNumber()) {
            if (!value.canConvertToLong() || value.longValue() > MAX_INTEGER || value.longValue() < MIN_INTEGER) {
                throw invalid(path + ": integers must lie between " + MIN_INTEGER + " and " + MAX_INTEGER);
            }
        } else if (!value.isNumber() && !value.isBoolean()) {
            throw invalid(path + ": unsupported value type");
        }
    }

    private static void checkKey(String path, String key) {
        if (key.isEmpty()) {
            throw invalid(path + ": keys may not be empty");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw invalid(path + ": keys may be at most " + MAX_KEY_BYTES + " bytes");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '.' || c == '$' || c == ' ' || c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                throw invalid(path + ": the key '" + abbreviate(key) + "' contains a character IoT Hub does not allow"
                        + " in twin keys (control characters, '.', '$' and space)");
            }
        }
    }

    /** IoT Hub's size algorithm. */
    static long sizeOf(JsonNode node) {
        if (node.isObject()) {
            long size = 0;
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> f = fields.next();
                size += f.getKey().getBytes(StandardCharsets.UTF_8).length + sizeOf(f.getValue());
            }
            return size;
        }
        if (node.isTextual()) {
            return node.textValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (node.isNumber()) {
            return 8;
        }
        if (node.isBoolean()) {
            return 4;
        }
        return 0;
    }

    private static String abbreviate(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }

    static HubException invalid(String message) {
        return new HubException(HubErrorCode.ArgumentInvalid, message);
    }
}
