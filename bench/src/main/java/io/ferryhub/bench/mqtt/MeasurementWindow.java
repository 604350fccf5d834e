package io.ferryhub.bench.mqtt;

/**
 * The interval (System.nanoTime) whose messages count: those published after the warm-up and before the end of
 * the measurement. Latencies of messages published outside it are not recorded, so warm-up and the drain at the
 * end do not distort percentiles.
 */
public final class MeasurementWindow {
    private volatile long startNanos = Long.MAX_VALUE;
    private volatile long endNanos = Long.MAX_VALUE;

    public void open() {
        startNanos = System.nanoTime();
    }

    public void close() {
        endNanos = System.nanoTime();
    }

    public boolean contains(long nanos) {
        return nanos >= startNanos && nanos < endNanos;
    }

    public double seconds() {
        return (endNanos - startNanos) / 1e9;
    }
}
