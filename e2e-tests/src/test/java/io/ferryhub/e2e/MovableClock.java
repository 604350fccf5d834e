package io.ferryhub.e2e;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that runs at real speed from a time the test sets: hours-of-day rules are tested without waiting. */
final class MovableClock extends Clock {
    private volatile Duration offset = Duration.ZERO;

    /** From now on the clock reads {@code now}, then runs on. */
    void set(Instant now) {
        offset = Duration.between(Instant.now(), now);
    }

    @Override
    public Instant instant() {
        return Instant.now().plus(offset);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a test clock in UTC");
    }
}
