package io.ferryhub.hub.service.throttling;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Which operations the hub throttles and at what rates: IoT Hub S1's table for a number of units, with any class
 * overridden ({@code --throttle d2c=200/s,c2d=100/min}), or nothing throttled at all.
 */
public record ThrottleSettings(boolean enabled, int units, Map<OperationClass, Rate> overrides) {
    /** IoT Hub allows up to 200 S1 units. */
    public static final int MAX_UNITS = 200;

    public ThrottleSettings {
        if (units < 1 || units > MAX_UNITS) {
            throw new IllegalArgumentException("units must be between 1 and " + MAX_UNITS + ", not " + units);
        }
        EnumMap<OperationClass, Rate> copy = new EnumMap<>(OperationClass.class);
        copy.putAll(overrides);
        overrides = Collections.unmodifiableMap(copy);
    }

    /** IoT Hub S1's throttles for one unit: the product's default. */
    public static ThrottleSettings s1() {
        return new ThrottleSettings(true, 1, Map.of());
    }

    public static ThrottleSettings off() {
        return new ThrottleSettings(false, 1, Map.of());
    }

    public ThrottleSettings withUnits(int n) {
        return new ThrottleSettings(enabled, n, overrides);
    }

    /**
     * Overrides classes from a spec such as {@code d2c=100/s,c2d=100/min,methods=160KB/s}.
     *
     * @throws IllegalArgumentException naming the bad part and what would be right
     */
    public ThrottleSettings withSpec(String spec) {
        EnumMap<OperationClass, Rate> rates = new EnumMap<>(OperationClass.class);
        rates.putAll(overrides);
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--throttle needs NAME=RATE pairs, e.g. d2c=100/s,c2d=100/min");
        }
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            OperationClass op = eq < 0 ? null : OperationClass.ofFlag(part.substring(0, eq).trim());
            if (op == null) {
                throw new IllegalArgumentException("'" + part.trim() + "' is not NAME=RATE with NAME one of "
                        + names());
            }
            rates.put(op, Rate.parse(part.substring(eq + 1), op));
        }
        return new ThrottleSettings(enabled, units, rates);
    }

    /** The rate the class is limited to (when enabled). */
    public Rate rateOf(OperationClass op) {
        Rate override = overrides.get(op);
        return override != null ? override : op.s1(units);
    }

    private static String names() {
        StringBuilder all = new StringBuilder();
        for (OperationClass op : OperationClass.values()) {
            all.append(all.isEmpty() ? "" : ", ").append(op.flag());
        }
        return all.toString();
    }

    @Override
    public String toString() {
        if (!enabled) {
            return "off";
        }
        StringBuilder text = new StringBuilder();
        for (OperationClass op : OperationClass.values()) {
            text.append(text.isEmpty() ? "" : ",").append(op.flag()).append('=').append(rateOf(op));
        }
        return text.toString();
    }
}
