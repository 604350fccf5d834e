package io.ferryhub.hub.service.throttling;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sustained rate with a burst: {@code amount} operations (or meter chunks) per {@code period}; up to {@link #burst}
 * of them may come at once, after a quiet spell, before the rate applies. IoT Hub shapes traffic over minute ranges,
 * accepting bursts above the limit for a while; a burst of one period's worth is the hub's model of that.
 */
public record Rate(double amount, Duration period, double burst) {
    private static final Pattern SPEC = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(kb)?/(s|sec|min|h)");

    public Rate {
        if (!(amount > 0) || Double.isInfinite(amount) || period.isZero() || period.isNegative() || !(burst >= 1)) {
            throw new IllegalArgumentException("a rate must be positive, with a burst of at least 1");
        }
    }

    public static Rate perSecond(double amount) {
        return new Rate(amount, Duration.ofSeconds(1), Math.max(1, amount));
    }

    public static Rate perMinute(double amount) {
        return new Rate(amount, Duration.ofMinutes(1), Math.max(1, amount));
    }

    /** Nanoseconds between two operations at this rate. */
    public long intervalNanos() {
        return Math.max(1, Math.round(period.toNanos() / amount));
    }

    /**
     * Parses {@code 100/s}, {@code 100/min}, {@code 1.67/s}, {@code 5/h}; {@code KB} after the number (e.g.
     * {@code 160KB/s}) counts in the class's meter chunks (direct methods' 4 KB).
     */
    public static Rate parse(String text, OperationClass op) {
        Matcher m = SPEC.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a rate: write e.g. 100/s, 100/min, 1.67/s"
                    + (op.meterBytes() > 0 ? " or 160KB/s" : ""));
        }
        double amount = Double.parseDouble(m.group(1));
        if (m.group(2) != null) {
            if (op.meterBytes() == 0) {
                throw new IllegalArgumentException(op.flag() + " counts operations, not bytes: write e.g. 100/s");
            }
            amount = amount * 1024 / op.meterBytes();
        }
        if (!(amount > 0)) {
            throw new IllegalArgumentException(op.flag() + "=" + text + " would refuse every operation: give a "
                    + "positive rate, or --throttling off to turn throttling off");
        }
        Duration period = switch (m.group(3)) {
            case "s", "sec" -> Duration.ofSeconds(1);
            case "min" -> Duration.ofMinutes(1);
            default -> Duration.ofHours(1);
        };
        return new Rate(amount, period, Math.max(1, amount));
    }

    @Override
    public String toString() {
        String unit = period.equals(Duration.ofSeconds(1)) ? "s" : period.equals(Duration.ofMinutes(1)) ? "min" : "h";
        String n = amount == Math.rint(amount) ? String.valueOf((long) amount) : String.format(Locale.ROOT, "%.2f",
                amount);
        return n + "/" + unit;
    }
}
