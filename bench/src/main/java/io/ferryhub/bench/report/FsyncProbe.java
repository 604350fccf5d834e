package io.ferryhub.bench.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The disk's own fsync time, the floor under any acknowledgement that waits for stable storage: appends of one
 * telemetry record's size to a new file, each followed by {@code force(false)} (fdatasync), as the hub's event log
 * does for a lone message. Run in the directory the broker writes to, beside the measurements it explains.
 */
public final class FsyncProbe {
    private FsyncProbe() {
    }

    /** Appends {@code count} records of {@code recordBytes} to a file in {@code dir}, timing each fdatasync. */
    public static LatencySummary measure(Path dir, int count, int recordBytes) throws IOException {
        Files.createDirectories(dir);
        Path file = Files.createTempFile(dir, "fsync-probe", ".bin");
        LatencyRecorder recorder = new LatencyRecorder(count);
        ByteBuffer record = ByteBuffer.allocate(recordBytes);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            for (int i = 0; i < count; i++) {
                record.clear();
                while (record.hasRemaining()) {
                    channel.write(record);
                }
                long start = System.nanoTime();
                channel.force(false);
                recorder.record(System.nanoTime() - start);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        return recorder.summary();
    }

    /** The probe's figures with the load average at the time, for a report. */
    public static ObjectNode measureToJson(Path dir, int count, int recordBytes) throws IOException {
        ObjectNode node = Json.object();
        node.put("loadAverage", LoadAverage.read());
        node.put("records", count);
        node.put("recordBytes", recordBytes);
        node.set("fdatasyncMs", measure(dir, count, recordBytes).toJson());
        return node;
    }
}
