package io.ferryhub.hub.service.throttling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The hub's throttles: one {@link RateLimiter} per {@link OperationClass} for the whole hub, as IoT Hub throttles per
 * hub. An operation over its class's rate (after the burst) is refused at once with {@code 429001
 * ThrottlingException}, which every official SDK retries with back-off; nothing waits, so checks may run on event
 * loops.
 */
public final class Throttles {
    private final ThrottleSettings settings;
    private final Map<OperationClass, RateLimiter> limiters = new EnumMap<>(OperationClass.class);
    private final Map<OperationClass, LongAdder> refused = new EnumMap<>(OperationClass.class);

    public Throttles(ThrottleSettings settings) {
        this(settings, System::nanoTime);
    }

    /** With a clock of nanoseconds that tests move. */
    public Throttles(ThrottleSettings settings, LongSupplier nanoClock) {
        this.settings = settings;
        for (OperationClass op : OperationClass.values()) {
            refused.put(op, new LongAdder());
            if (settings.enabled()) {
                limiters.put(op, new RateLimiter(settings.rateOf(op), nanoClock));
            }
        }
    }

    public static Throttles off() {
        return new Throttles(ThrottleSettings.off());
    }

    public ThrottleSettings settings() {
        return settings;
    }

    /** Admits one operation of the class, or throws {@code ThrottlingException}. */
    public void admit(OperationClass op) {
        admit(op, 0);
    }

    /** Admits one operation of {@code bytes} (metered classes cost one unit per started chunk). */
    public void admit(OperationClass op, long bytes) {
        if (!tryAdmit(op, bytes)) {
            throw new HubException(HubErrorCode.ThrottlingException, "The " + op.flag() + " rate of this hub ("
                    + settings.rateOf(op) + ") is exceeded; retry later");
        }
    }

    /** Whether one operation of {@code bytes} is admitted now (counted as refused when not). */
    public boolean tryAdmit(OperationClass op, long bytes) {
        RateLimiter limiter = limiters.get(op);
        if (limiter == null || limiter.tryAcquire(op.cost(bytes))) {
            return true;
        }
        refused.get(op).increment();
        return false;
    }

    /** Operations refused per class since the hub started (for metrics). */
    public Map<String, Long> refusedByClass() {
        Map<String, Long> counts = new java.util.LinkedHashMap<>();
        refused.forEach((op, n) -> counts.put(op.flag(), n.sum()));
        return counts;
    }
}
