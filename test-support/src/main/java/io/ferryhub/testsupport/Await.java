package io.ferryhub.testsupport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Polls a condition until it holds or a deadline passes: the one place the modules' tests wait for something to
 * happen. Sleeping a fixed time instead is either flaky (too short on a loaded machine) or slow (too long everywhere
 * else); a deadline is generous and costs nothing when the condition holds early. Its pause between polls is the one
 * sleep hub's {@code NoSleepInTestsTest} allows here.
 */
public final class Await {
    /** The deadline when a test names none: long enough for a loaded 2-core CI machine. */
    public static final Duration DEFAULT = Duration.ofSeconds(30);

    /** A condition that may throw (a REST call, a file read). */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /** A value that is not there yet while it is null. */
    @FunctionalInterface
    public interface Probe<T> {
        T get() throws Exception;
    }

    private Await() {
    }

    /** Whether {@code condition} held within {@code limit}; polls every few milliseconds, backing off to 50 ms. */
    public static boolean within(Duration limit, Condition condition) throws InterruptedException {
        return value(limit, () -> condition.holds() ? Boolean.TRUE : null) != null;
    }

    /** Waits for {@code condition}, failing with {@code what} when it does not hold within {@link #DEFAULT}. */
    public static void until(String what, Condition condition) throws InterruptedException {
        until(what, DEFAULT, condition);
    }

    /** Waits for {@code condition}, failing with {@code what} when it does not hold within {@code limit}. */
    public static void until(String what, Duration limit, Condition condition) throws InterruptedException {
        if (!within(limit, condition)) {
            throw new AssertionError("not within " + limit.toMillis() + " ms: " + what);
        }
    }

    /**
     * The first non-null value {@code probe} returns within {@code limit}, or null when it returned none. A checked
     * exception from the probe fails the wait at once (wrapped in an AssertionError); unchecked ones propagate.
     */
    public static <T> T value(Duration limit, Probe<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        long pauseMillis = 1;
        while (true) {
            T value;
            try {
                value = probe.get();
            } catch (RuntimeException | InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError("the awaited condition failed", e);
            }
            if (value != null) {
                return value;
            }
            if (System.nanoTime() - deadline > 0) {
                return null;
            }
            TimeUnit.MILLISECONDS.sleep(pauseMillis);
            pauseMillis = Math.min(50, pauseMillis * 2);
        }
    }
}
