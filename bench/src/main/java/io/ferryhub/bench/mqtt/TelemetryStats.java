package io.ferryhub.bench.mqtt;

import io.ferryhub.bench.report.LatencyRecorder;

import java.util.concurrent.atomic.LongAdder;

/** What the load generator and the reader count and time during one measured configuration. */
public final class TelemetryStats {
    /** Enough for a few minutes at the rates this machine reaches; beyond it samples are only counted. */
    private static final int MAX_SAMPLES = 8_000_000;

    public final MeasurementWindow window = new MeasurementWindow();
    public final LatencyRecorder publishToAck = new LatencyRecorder(MAX_SAMPLES);
    final LatencyRecorder publishToRead = new LatencyRecorder(MAX_SAMPLES);
    public final LongAdder published = new LongAdder();
    public final LongAdder acked = new LongAdder();
    final LongAdder read = new LongAdder();

    /** Called by readers for each message read back. */
    public void onRead(long sentNanos, long readNanos) {
        read.increment();
        if (window.contains(sentNanos)) {
            publishToRead.record(readNanos - sentNanos);
        }
    }

    public void onAck(long sentNanos, long ackNanos) {
        acked.increment();
        if (window.contains(sentNanos)) {
            publishToAck.record(ackNanos - sentNanos);
        }
    }
}
