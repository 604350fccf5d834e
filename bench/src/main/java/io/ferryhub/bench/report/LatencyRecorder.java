package io.ferryhub.bench.report;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Latency samples in nanoseconds, recorded lock-free from any thread into a fixed array. Memory stays bounded: past
 * the capacity, samples are only counted, and the report says how many were kept.
 */
public final class LatencyRecorder {
    private final long[] samples;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong total = new AtomicLong();

    public LatencyRecorder(int capacity) {
        this.samples = new long[capacity];
    }

    public void record(long nanos) {
        total.incrementAndGet();
        int slot = next.getAndIncrement();
        if (slot < samples.length) {
            samples[slot] = nanos;
        }
    }

    public long count() {
        return total.get();
    }

    /** A summary in milliseconds: count, kept samples, p50, p90, p99, p99.9, max, mean. */
    public LatencySummary summary() {
        int kept = Math.min(next.get(), samples.length);
        long[] sorted = Arrays.copyOf(samples, kept);
        Arrays.sort(sorted);
        return new LatencySummary(total.get(), kept, percentileMillis(sorted, 50), percentileMillis(sorted, 90),
                percentileMillis(sorted, 99), percentileMillis(sorted, 99.9),
                kept == 0 ? Double.NaN : sorted[kept - 1] / 1e6,
                kept == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(0) / 1e6);
    }

    private static double percentileMillis(long[] sorted, double percentile) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}
