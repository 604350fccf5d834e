package io.ferryhub.common.ipfilter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One IP filter rule, in IoT Hub's shape: {@code {"filterName": ..., "action": "Accept"|"Reject", "ipMask": ...}}.
 * Names follow IoT Hub's rule: up to 128 ASCII letters, digits and {@code - : / \ . + % _ # * ? ! ( ) , = @ ; '},
 * unique regardless of case.
 */
public record IpFilterRule(String name, Action action, IpRange range) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9\\-:/\\\\.+%_#*?!(),=@;']{1,128}");

    public enum Action {
        Accept, Reject;

        /** Accept or Reject in any case; Allow too, the word IoT Hub's portal and some of its samples use. */
        static Action parse(String text) {
            if (text != null) {
                switch (text.strip().toLowerCase(Locale.ROOT)) {
                    case "accept", "allow" -> {
                        return Accept;
                    }
                    case "reject" -> {
                        return Reject;
                    }
                    default -> {
                    }
                }
            }
            throw new IllegalArgumentException("the action must be Accept or Reject, not '" + text + "'");
        }
    }

    public IpFilterRule {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("the rule name '" + name + "' is not valid: 1 to 128 ASCII letters, "
                    + "digits and - : / \\ . + % _ # * ? ! ( ) , = @ ; '");
        }
        if (action == null || range == null) {
            throw new IllegalArgumentException("a rule needs an action and an address range");
        }
    }

    /** @throws IllegalArgumentException naming the field that is missing or wrong */
    public static IpFilterRule of(String name, String action, String ipMask) {
        return new IpFilterRule(name, Action.parse(action), IpRange.parse(ipMask));
    }

    /** @throws IllegalArgumentException naming the field that is missing or wrong */
    public static IpFilterRule fromJson(JsonNode json) {
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("a rule must be a JSON object with filterName, action and ipMask");
        }
        return of(text(json, "filterName"), text(json, "action"), text(json, "ipMask"));
    }

    private static String text(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("the rule's " + field + " is missing or not a string");
        }
        return value.asText();
    }

    public ObjectNode toJson() {
        return Json.object().put("filterName", name).put("action", action.name()).put("ipMask", range.toString());
    }
}
