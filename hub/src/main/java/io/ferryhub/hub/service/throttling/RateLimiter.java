package io.ferryhub.hub.service.throttling;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One rate limit as GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): the theoretical
 * arrival time of the next operation moves forward by one interval per unit of cost, and an operation is refused
 * when that time would lie further ahead than the burst allows. Lock-free (one compare-and-set), allocation-free
 * and never waits, so it may run on an event loop.
 */
public final class RateLimiter {
    private final long intervalNanos;
    /** How far ahead of now the theoretical arrival time may run: the burst's worth of intervals. */
    private final long toleranceNanos;
    private final LongSupplier nanoClock;
    private final AtomicLong theoreticalArrival;

    public RateLimiter(Rate rate, LongSupplier nanoClock) {
        this.intervalNanos = rate.intervalNanos();
        this.toleranceNanos = (long) Math.min(Long.MAX_VALUE / 4.0, rate.burst() * intervalNanos);
        this.nanoClock = nanoClock;
        this.theoreticalArrival = new AtomicLong(nanoClock.getAsLong());
    }

    /** Takes {@code cost} units if the rate admits them now; false (nothing taken) if not. */
    public boolean tryAcquire(int cost) {
        long increment = intervalNanos * cost;
        while (true) {
            long now = nanoClock.getAsLong();
            long tat = theoreticalArrival.get();
            long next = Math.max(tat, now) + increment;
            if (next - now > toleranceNanos) {
                return false;
            }
            if (theoreticalArrival.compareAndSet(tat, next)) {
                return true;
            }
        }
    }

    public boolean tryAcquire() {
        return tryAcquire(1);
    }
}
