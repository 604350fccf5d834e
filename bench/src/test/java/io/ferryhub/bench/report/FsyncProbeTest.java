package io.ferryhub.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The disk probe times one fdatasync per record and leaves nothing behind (no timing is asserted). */
class FsyncProbeTest {
    @TempDir
    Path dir;

    @Test
    void timesEveryFsyncAndRemovesItsFile() throws Exception {
        LatencySummary summary = FsyncProbe.measure(dir, 20, 256);
        assertEquals(20, summary.count());
        assertEquals(20, summary.samplesKept());
        assertTrue(summary.maxMs() >= summary.p50Ms());
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count());
        }
        assertTrue(LoadAverage.read().matches("\\d+\\.\\d+ \\d+\\.\\d+ \\d+\\.\\d+"), LoadAverage.read());
    }
}
