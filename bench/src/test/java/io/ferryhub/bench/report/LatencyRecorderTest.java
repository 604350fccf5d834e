package io.ferryhub.bench.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The percentile arithmetic every benchmark's figures rest on (no timing is measured here). */
class LatencyRecorderTest {
    @Test
    void percentilesAreNearestRankInMilliseconds() {
        LatencyRecorder recorder = new LatencyRecorder(1000);
        for (int i = 100; i >= 1; i--) {
            recorder.record(i * 1_000_000L);
        }
        LatencySummary summary = recorder.summary();
        assertEquals(100, summary.count());
        assertEquals(50.0, summary.p50Ms());
        assertEquals(99.0, summary.p99Ms());
        assertEquals(100.0, summary.maxMs());
        assertEquals(50.5, summary.meanMs());
    }

    @Test
    void samplesBeyondCapacityAreCountedNotKept() {
        LatencyRecorder recorder = new LatencyRecorder(10);
        for (int i = 0; i < 25; i++) {
            recorder.record(1_000_000L);
        }
        LatencySummary summary = recorder.summary();
        assertEquals(25, summary.count());
        assertEquals(10, summary.samplesKept());
        assertEquals(1.0, summary.p99Ms());
    }
}
