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

    /** A later measured phase: latencies of messages published in its window go there; counters stay here. */
    private volatile TelemetryStats nextPhase;

    /**
     * Starts a phase measured after this one (e.g. warm after cold) without touching the devices: messages
     * published in the returned phase's window have their latencies recorded there.
     */
    public TelemetryStats nextPhase() {
        TelemetryStats next = new TelemetryStats();
        nextPhase = next;
        return next;
    }

    /** Called by readers for each message read back. */
    public void onRead(long sentNanos, long readNanos) {
        read.increment();
        recordRead(sentNanos, readNanos);
    }

    public void onAck(long sentNanos, long ackNanos) {
        acked.increment();
        recordAck(sentNanos, ackNanos);
    }

    private void recordRead(long sentNanos, long readNanos) {
        if (window.contains(sentNanos)) {
            publishToRead.record(readNanos - sentNanos);
        } else if (nextPhase != null) {
            nextPhase.recordRead(sentNanos, readNanos);
        }
    }

    private void recordAck(long sentNanos, long ackNanos) {
        if (window.contains(sentNanos)) {
            publishToAck.record(ackNanos - sentNanos);
        } else if (nextPhase != null) {
            nextPhase.recordAck(sentNanos, ackNanos);
        }
    }
}
