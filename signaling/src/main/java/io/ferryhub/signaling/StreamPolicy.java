package io.ferryhub.signaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.json.Json;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which streams a device (or module) lets back-ends open: an allow-list of rules. A stream or tunnel channel is
 * allowed when one rule matches the caller's shared access policy, the stream name, the channel's target (tunnel
 * channels only) and the time of day; otherwise it is denied, and the denial names the rule that came closest and
 * the check it failed. An identity without a policy is not restricted at all.
 *
 * <p>The hub checks stream requests at signaling; the part of a policy that governs one stream (the rules for its
 * initiator and name) travels inside the stream token, so the gateway, embedded or stand-alone, checks every tunnel
 * channel's target without calling the hub.
 *
 * @param record the gateway records this identity's streams (when the gateway has a recording directory)
 */
public record StreamPolicy(List<Rule> rules, boolean record) {
    public static final int MAX_RULES = 64;
    public static final int MAX_PATTERNS = 64;
    /**
     * The largest policy, as compact JSON: the rules that apply to a stream travel in its token, which goes in an
     * HTTP header (8 KiB for the whole header block at the gateway) and an MQTT topic.
     */
    public static final int MAX_JSON_BYTES = 4096;

    public StreamPolicy {
        rules = List.copyOf(rules);
    }

    /**
     * One allow rule. A null list means "any"; patterns are globs ({@code *} any run of characters, {@code ?} one).
     *
     * @param policies shared access policy names allowed to open streams (exact names)
     * @param streams  stream name patterns (a tunnel session is the stream {@code ferryhub.tunnel.v1})
     * @param targets  tunnel channel target patterns: what the service side asks the device proxy to connect,
     *                 a mapped name ({@code ssh}), {@code host:port} or {@code unix:/path}
     * @param hours    when the rule applies; null for always
     */
    public record Rule(String name, List<String> policies, List<String> streams, List<String> targets, Hours hours) {
    }

    /**
     * Days of the week and a time window in a time zone. {@code from} after {@code to} spans midnight: the part
     * after midnight belongs to the day the window started on.
     */
    public record Hours(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {
        public boolean contains(Instant instant) {
            ZonedDateTime t = instant.atZone(zone);
            LocalTime time = t.toLocalTime();
            DayOfWeek day = t.getDayOfWeek();
            if (!from.isAfter(to)) {
                return days.contains(day) && !time.isBefore(from) && time.isBefore(to);
            }
            return (days.contains(day) && !time.isBefore(from)) || (days.contains(day.minus(1)) && time.isBefore(to));
        }

        String describe() {
            StringBuilder s = new StringBuilder();
            for (DayOfWeek d : days) {
                s.append(s.length() == 0 ? "" : ",").append(d.getDisplayName(TextStyle.SHORT, Locale.ROOT));
            }
            return s + " " + from + "-" + to + " " + zone.getId();
        }
    }

    /** The checks in the order a rule applies them; a denial names the one that failed. */
    public enum Check {
        POLICY(HubErrorCode.StreamPolicyInitiatorDenied),
        STREAM(HubErrorCode.StreamPolicyNameDenied),
        TARGET(HubErrorCode.StreamPolicyTargetDenied),
        HOURS(HubErrorCode.StreamPolicyHoursDenied);

        private final HubErrorCode errorCode;

        Check(HubErrorCode errorCode) {
            this.errorCode = errorCode;
        }

        public HubErrorCode errorCode() {
            return errorCode;
        }

        /** The label of denials of this kind in metrics and audit events. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Why a stream or channel is refused: the rule that came closest (null when there are no rules). */
    public record Denial(String rule, Check check, String message) {
    }

    /** Null when allowed. */
    public Denial checkStream(String policy, String streamName, Instant now) {
        return check(policy, streamName, null, now);
    }

    /** Null when a tunnel channel of stream {@code streamName} may connect {@code target}. */
    public Denial checkChannel(String policy, String streamName, String target, Instant now) {
        return check(policy, streamName, target, now);
    }

    private Denial check(String policy, String streamName, String target, Instant now) {
        if (rules.isEmpty()) {
            return new Denial(null, target == null ? Check.STREAM : Check.TARGET,
                    "the stream policy has no rule: every stream is denied");
        }
        Rule closest = null;
        Check closestCheck = null;
        for (Rule rule : rules) {
            Check failed = firstFailure(rule, policy, streamName, target, now);
            if (failed == null) {
                return null;
            }
            if (closestCheck == null || failed.ordinal() > closestCheck.ordinal()) {
                closest = rule;
                closestCheck = failed;
            }
        }
        String why = switch (closestCheck) {
            case POLICY -> "policy '" + policy + "' is not one of " + closest.policies();
            case STREAM -> "stream name '" + streamName + "' matches none of " + closest.streams();
            case TARGET -> "target '" + target + "' matches none of " + closest.targets();
            case HOURS -> "outside its hours (" + closest.hours().describe() + ")";
        };
        return new Denial(closest.name(), closestCheck, "denied by stream policy rule '" + closest.name() + "': "
                + why);
    }

    private static Check firstFailure(Rule rule, String policy, String streamName, String target, Instant now) {
        if (rule.policies() != null && !rule.policies().contains(policy)) {
            return Check.POLICY;
        }
        if (!matchesAny(rule.streams(), streamName)) {
            return Check.STREAM;
        }
        if (target != null && !matchesAny(rule.targets(), target)) {
            return Check.TARGET;
        }
        if (rule.hours() != null && !rule.hours().contains(now)) {
            return Check.HOURS;
        }
        return null;
    }

    /**
     * The rules that can apply to a stream of {@code streamName} opened by {@code policy}, hours not yet judged:
     * what its token carries so the gateway can judge each channel when it opens.
     */
    public StreamPolicy narrowTo(String policy, String streamName) {
        List<Rule> kept = new ArrayList<>();
        for (Rule rule : rules) {
            if ((rule.policies() == null || rule.policies().contains(policy)) && matchesAny(rule.streams(), streamName)) {
                kept.add(rule);
            }
        }
        return new StreamPolicy(kept, record);
    }

    private static boolean matchesAny(List<String> patterns, String value) {
        if (patterns == null) {
            return true;
        }
        for (String p : patterns) {
            if (glob(p, value)) {
                return true;
            }
        }
        return false;
    }

    /** Glob match without regular expressions (patterns come from operators; no backtracking blow-up). */
    static boolean glob(String pattern, String value) {
        int p = 0;
        int v = 0;
        int star = -1;
        int mark = 0;
        while (v < value.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == value.charAt(v))) {
                p++;
                v++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = v;
            } else if (star >= 0) {
                p = star + 1;
                v = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    // ---- JSON, as stored, sent over REST and carried in stream tokens

    public ObjectNode toJson() {
        ObjectNode root = Json.object();
        ArrayNode list = root.putArray("rules");
        for (Rule r : rules) {
            ObjectNode rule = list.addObject().put("name", r.name());
            putList(rule, "policies", r.policies());
            putList(rule, "streams", r.streams());
            putList(rule, "targets", r.targets());
            if (r.hours() != null) {
                ObjectNode hours = rule.putObject("hours");
                ArrayNode days = hours.putArray("days");
                r.hours().days().forEach(d -> days.add(d.getDisplayName(TextStyle.SHORT, Locale.ROOT)));
                hours.put("from", r.hours().from().toString()).put("to", r.hours().to().toString())
                        .put("timeZone", r.hours().zone().getId());
            }
        }
        root.put("record", record);
        return root;
    }

    private static void putList(ObjectNode node, String field, List<String> values) {
        if (values != null) {
            ArrayNode array = node.putArray(field);
            values.forEach(array::add);
        }
    }

    /** Parses and validates; the message of the {@link IllegalArgumentException} says what is wrong and where. */
    public static StreamPolicy fromJson(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("a stream policy is a JSON object with \"rules\"");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!field.equals("rules") && !field.equals("record")) {
                throw new IllegalArgumentException("unknown field '" + field + "' (expected rules, record)");
            }
        }
        JsonNode list = root.get("rules");
        if (list == null || !list.isArray()) {
            throw new IllegalArgumentException("\"rules\" must be an array (empty: deny every stream)");
        }
        if (list.size() > MAX_RULES) {
            throw new IllegalArgumentException("at most " + MAX_RULES + " rules");
        }
        JsonNode record = root.get("record");
        if (record != null && !record.isBoolean()) {
            throw new IllegalArgumentException("\"record\" must be true or false");
        }
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            rules.add(rule(list.get(i), "rules[" + i + "]"));
        }
        StreamPolicy policy = new StreamPolicy(rules, record != null && record.asBoolean());
        int size = Json.toBytes(policy.toJson()).length;
        if (size > MAX_JSON_BYTES) {
            throw new IllegalArgumentException("the policy is " + size + " bytes of JSON, over the limit of "
                    + MAX_JSON_BYTES + " (its rules travel in every stream token): use fewer or wider patterns");
        }
        return policy;
    }

    private static Rule rule(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + " must be an object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!Set.of("name", "policies", "streams", "targets", "hours").contains(field)) {
                throw new IllegalArgumentException(where + ": unknown field '" + field
                        + "' (expected name, policies, streams, targets, hours)");
            }
        }
        JsonNode name = node.get("name");
        if (name == null || !name.isTextual() || name.asText().isBlank() || name.asText().length() > 64) {
            throw new IllegalArgumentException(where + ".name must be 1 to 64 characters");
        }
        where = where + " ('" + name.asText() + "')";
        return new Rule(name.asText(), strings(node, "policies", where), strings(node, "streams", where),
                strings(node, "targets", where), hours(node.get("hours"), where));
    }

    private static List<String> strings(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isArray() || value.size() > MAX_PATTERNS) {
            throw new IllegalArgumentException(where + "." + field + " must be an array of at most " + MAX_PATTERNS
                    + " strings (omit it for any)");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode v : value) {
            if (!v.isTextual() || v.asText().isEmpty() || v.asText().length() > 256) {
                throw new IllegalArgumentException(where + "." + field + " holds a value that is not a string of 1 "
                        + "to 256 characters");
            }
            out.add(v.asText());
        }
        return List.copyOf(out);
    }

    private static Hours hours(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject() || !node.path("from").isTextual() || !node.path("to").isTextual()) {
            throw new IllegalArgumentException(where + ".hours needs \"from\" and \"to\" (HH:MM), optional \"days\" "
                    + "and \"timeZone\"");
        }
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        JsonNode dayList = node.get("days");
        if (dayList == null || dayList.isNull()) {
            days = EnumSet.allOf(DayOfWeek.class);
        } else if (!dayList.isArray() || dayList.isEmpty()) {
            throw new IllegalArgumentException(where + ".hours.days must be a non-empty array such as "
                    + "[\"Mon\",\"Tue\"]");
        } else {
            for (JsonNode d : dayList) {
                days.add(day(d.asText(), where));
            }
        }
        try {
            LocalTime from = LocalTime.parse(node.get("from").asText());
            LocalTime to = LocalTime.parse(node.get("to").asText());
            if (from.equals(to)) {
                throw new IllegalArgumentException(where + ".hours: from and to are equal (omit hours for always)");
            }
            ZoneId zone = ZoneId.of(node.path("timeZone").asText("UTC"));
            return new Hours(days, from, to, zone);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(where + ".hours: from and to must be HH:MM, e.g. 08:00");
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(where + ".hours.timeZone is not a time zone id such as "
                    + "Europe/Paris or UTC: " + node.path("timeZone").asText());
        }
    }

    private static DayOfWeek day(String text, String where) {
        for (DayOfWeek d : DayOfWeek.values()) {
            if (d.getDisplayName(TextStyle.SHORT, Locale.ROOT).equalsIgnoreCase(text) || d.name().equalsIgnoreCase(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException(where + ".hours.days: '" + text + "' is not a day (Mon ... Sun)");
    }
}
