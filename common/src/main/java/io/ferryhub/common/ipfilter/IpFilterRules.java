package io.ferryhub.common.ipfilter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ferryhub.common.json.Json;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable, ordered IP filter: the first rule whose range holds an address decides; an address no rule holds
 * is accepted (IoT Hub's default, the same as an empty filter). At most {@link #MAX_RULES} rules, names unique
 * regardless of case. Every change makes a new instance, so a listener swaps the whole filter at once.
 */
public final class IpFilterRules {
    /**
     * IoT Hub allows 10 rules by default; a self-hosted hub need not be that strict, and the list is scanned once
     * per new connection (not per message), so 100 ranges stay cheap while bounding what a change may hold.
     */
    public static final int MAX_RULES = 100;
    public static final IpFilterRules EMPTY = new IpFilterRules(List.of());

    private final List<IpFilterRule> rules;

    private IpFilterRules(List<IpFilterRule> rules) {
        this.rules = rules;
    }

    /** @throws IllegalArgumentException for too many rules or a name used twice */
    public static IpFilterRules of(List<IpFilterRule> rules) {
        if (rules.size() > MAX_RULES) {
            throw new IllegalArgumentException(rules.size() + " rules are too many: an IP filter holds at most "
                    + MAX_RULES);
        }
        Set<String> names = new HashSet<>();
        for (IpFilterRule rule : rules) {
            if (!names.add(key(rule.name()))) {
                throw new IllegalArgumentException("the rule name '" + rule.name() + "' is used more than once "
                        + "(names are unique regardless of case)");
            }
        }
        return new IpFilterRules(List.copyOf(rules));
    }

    /** Reads {@code {"ipFilterRules": [...]}} or a bare array of rules; all of it or nothing. */
    public static IpFilterRules fromJson(JsonNode json) {
        JsonNode array = json != null && json.isObject() ? json.get("ipFilterRules") : json;
        if (array == null || !array.isArray()) {
            throw new IllegalArgumentException("expected {\"ipFilterRules\": [...]} or a JSON array of rules");
        }
        if (array.size() > MAX_RULES) {
            throw new IllegalArgumentException(array.size() + " rules are too many: an IP filter holds at most "
                    + MAX_RULES);
        }
        List<IpFilterRule> rules = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            try {
                rules.add(IpFilterRule.fromJson(array.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rule " + (i + 1) + ": " + e.getMessage());
            }
        }
        return of(rules);
    }

    public JsonNode toJson() {
        ArrayNode array = Json.MAPPER.createArrayNode();
        rules.forEach(r -> array.add(r.toJson()));
        return Json.object().set("ipFilterRules", array);
    }

    /** The decision of the first rule holding {@code address}, or Accept when none does. */
    public IpFilterRule.Action decide(InetAddress address) {
        for (IpFilterRule rule : rules) {
            if (rule.range().contains(address)) {
                return rule.action();
            }
        }
        return IpFilterRule.Action.Accept;
    }

    public boolean admits(InetAddress address) {
        return decide(address) == IpFilterRule.Action.Accept;
    }

    public List<IpFilterRule> rules() {
        return rules;
    }

    public Optional<IpFilterRule> find(String name) {
        return rules.stream().filter(r -> key(r.name()).equals(key(name))).findFirst();
    }

    /**
     * A copy with {@code rule} inserted at {@code position} (0-based; null or past the end appends).
     *
     * @throws IllegalArgumentException for a name in use, a full filter or a negative position
     */
    public IpFilterRules with(IpFilterRule rule, Integer position) {
        if (find(rule.name()).isPresent()) {
            throw new IllegalArgumentException("a rule named '" + find(rule.name()).get().name()
                    + "' exists already; delete it first or pick another name");
        }
        if (position != null && position < 0) {
            throw new IllegalArgumentException("the position must be 0 or more, not " + position);
        }
        List<IpFilterRule> next = new ArrayList<>(rules);
        next.add(position == null ? next.size() : Math.min(position, next.size()), rule);
        return of(next);
    }

    /** A copy without the rule named {@code name}; the same instance when there is none. */
    public IpFilterRules without(String name) {
        List<IpFilterRule> next = new ArrayList<>(rules);
        next.removeIf(r -> key(r.name()).equals(key(name)));
        return next.size() == rules.size() ? this : new IpFilterRules(List.copyOf(next));
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpFilterRules other && other.rules.equals(rules);
    }

    @Override
    public int hashCode() {
        return rules.hashCode();
    }

    @Override
    public String toString() {
        return rules.toString();
    }
}
