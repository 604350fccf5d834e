package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.sas.PercentEncoding;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A path template such as {@code /devices/{deviceId}/modules/{moduleId}}. Literal segments match
 * case-insensitively (IoT Hub's paths do: the Java device SDK writes {@code devicebound}, the docs
 * {@code deviceBound}); {@code {name}} segments match one non-empty segment and are percent-decoded.
 */
final class RouteTemplate {
    private final String template;
    private final String[] segments;

    RouteTemplate(String template) {
        if (!template.startsWith("/")) {
            throw new IllegalArgumentException("route template must start with '/': " + template);
        }
        this.template = template;
        this.segments = split(template).toArray(new String[0]);
    }

    static List<String> split(String rawPath) {
        String trimmed = rawPath;
        while (trimmed.startsWith("/")) {
            trimmed = trimmed.substring(1);
        }
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("/", -1));
    }

    /** The decoded path parameters if the raw segments match, else null. */
    Map<String, String> match(List<String> rawSegments) {
        if (rawSegments.size() != segments.length) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            String actual = rawSegments.get(i);
            if (isParameter(s)) {
                if (actual.isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new HashMap<>();
                }
                params.put(s.substring(1, s.length() - 1), PercentEncoding.decode(actual));
            } else if (!s.toLowerCase(Locale.ROOT).equals(actual.toLowerCase(Locale.ROOT))) {
                return null;
            }
        }
        return params == null ? Map.of() : params;
    }

    /** Literal segments make a template more specific than a parameter in the same place. */
    int literalCount() {
        int n = 0;
        for (String s : segments) {
            if (!isParameter(s)) {
                n++;
            }
        }
        return n;
    }

    private static boolean isParameter(String segment) {
        return segment.length() > 2 && segment.startsWith("{") && segment.endsWith("}");
    }

    @Override
    public String toString() {
        return template;
    }
}
