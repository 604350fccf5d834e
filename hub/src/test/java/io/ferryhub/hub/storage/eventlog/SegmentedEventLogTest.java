package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.testsupport.Await;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmentedEventLogTest {
    @TempDir
    Path dir;

    private static EventData event(String device, int n) {
        return new EventData(Map.of("iothub-connection-device-id", device, "message-id", "m" + n),
                Map.of("n", Integer.toString(n)), ("payload-" + device + "-" + n).getBytes(StandardCharsets.UTF_8));
    }

    private static List<StoredEvent> readAll(EventLog log, int partition, StartPosition from) throws Exception {
        List<StoredEvent> all = new ArrayList<>();
        try (EventReader reader = log.openReader(partition, from)) {
            List<StoredEvent> batch;
            while (!(batch = reader.poll(100, Duration.ofMillis(50))).isEmpty()) {
                all.addAll(batch);
            }
        }
        return all;
    }

    @Test
    void appendedEventsAreReadBackInOrderWithContentAndPositions() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults())) {
            List<CompletableFuture<EventPosition>> acks = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                acks.add(log.append(i % 4, event("d" + (i % 4), i)));
            }
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            // group commit: many appends share one fsync
            assertTrue(log.fsyncCount() < log.appendedCount(),
                    log.fsyncCount() + " fsyncs for " + log.appendedCount() + " appends");
            for (int p = 0; p < 4; p++) {
                List<StoredEvent> events = readAll(log, p, StartPosition.earliest());
                assertEquals(500, events.size());
                for (int i = 0; i < events.size(); i++) {
                    StoredEvent e = events.get(i);
                    int n = i * 4 + p;
                    assertEquals(i, e.sequenceNumber());
                    assertEquals(acks.get(n).get().offset(), e.offset());
                    assertEquals("m" + n, e.data().systemProperties().get("message-id"));
                    assertEquals(Integer.toString(n), e.data().applicationProperties().get("n"));
                    assertArrayEquals(("payload-d" + p + "-" + n).getBytes(StandardCharsets.UTF_8), e.data().body());
                    if (i > 0) {
                        assertTrue(e.offset() > events.get(i - 1).offset());
                        assertTrue(e.enqueuedTimeMillis() >= events.get(i - 1).enqueuedTimeMillis());
                    }
                }
                PartitionInfo info = log.partitionInfo(p);
                assertEquals(0, info.beginSequenceNumber());
                assertEquals(499, info.lastSequenceNumber());
                assertEquals(events.get(499).offset(), info.lastOffset());
            }
        }
    }

    @Test
    void eventsSurviveARestartAndSequenceNumbersContinue() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults().withPartitions(2))) {
            for (int i = 0; i < 10; i++) {
                log.append(1, event("d", i)).get(30, TimeUnit.SECONDS);
            }
        }
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults().withPartitions(2))) {
            EventPosition next = log.append(1, event("d", 10)).get(30, TimeUnit.SECONDS);
            assertEquals(10, next.sequenceNumber());
            List<StoredEvent> events = readAll(log, 1, StartPosition.earliest());
            assertEquals(11, events.size());
            assertEquals("m7", events.get(7).data().systemProperties().get("message-id"));
        }
    }

    @Test
    void aTornTailIsCutOffOnRecoveryAndNothingAcknowledgedIsLost() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults().withPartitions(1))) {
            for (int i = 0; i < 5; i++) {
                log.append(0, event("d", i)).get(30, TimeUnit.SECONDS);
            }
        }
        Path segment;
        try (Stream<Path> files = Files.list(dir.resolve("partition-0"))) {
            segment = files.findFirst().orElseThrow();
        }
        long intact = Files.size(segment);
        // a crash mid-write: half a record (a plausible length field, then too few bytes)
        Files.write(segment, new byte[]{0, 0, 0, 100, 1, 2, 3, 4, 5, 6}, StandardOpenOption.APPEND);
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults().withPartitions(1))) {
            assertEquals(intact, Files.size(segment));
            assertEquals(5, log.append(0, event("d", 5)).get(30, TimeUnit.SECONDS).sequenceNumber());
            List<StoredEvent> events = readAll(log, 0, StartPosition.earliest());
            assertEquals(6, events.size());
            assertEquals("m5", events.get(5).data().systemProperties().get("message-id"));
        }
    }

    @Test
    void readersStartAtAnOffsetASequenceNumberATimeOrTheEnd() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir,
                SegmentedEventLog.Options.defaults().withPartitions(1).withSegmentBytes(2048))) {
            List<EventPosition> positions = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                positions.add(log.append(0, event("d", i)).get(30, TimeUnit.SECONDS));
                if (i == 99) {
                    // events 100.. must have a later enqueued time than 0..99
                    long last = positions.get(99).enqueuedTimeMillis();
                    Await.until("the clock passes event 99's enqueued time", () -> System.currentTimeMillis() > last);
                }
            }
            assertEquals(150, readAll(log, 0, new StartPosition.SequenceNumber(50, true)).get(0).sequenceNumber() + 100);
            assertEquals(51, readAll(log, 0, new StartPosition.SequenceNumber(50, false)).get(0).sequenceNumber());
            assertEquals(120, readAll(log, 0, new StartPosition.Offset(positions.get(120).offset(), true)).get(0).sequenceNumber());
            assertEquals(121, readAll(log, 0, new StartPosition.Offset(positions.get(120).offset(), false)).get(0).sequenceNumber());
            // an offset inside a record starts at the next record
            assertEquals(121, readAll(log, 0, new StartPosition.Offset(positions.get(120).offset() + 3, true)).get(0).sequenceNumber());
            List<StoredEvent> fromTime = readAll(log, 0,
                    new StartPosition.EnqueuedTime(Instant.ofEpochMilli(positions.get(100).enqueuedTimeMillis())));
            assertEquals(100, fromTime.get(0).sequenceNumber());
            assertEquals(100, fromTime.size());

            try (EventReader latest = log.openReader(0, StartPosition.latest())) {
                assertTrue(latest.poll(10, Duration.ofMillis(50)).isEmpty());
                CompletableFuture<List<StoredEvent>> waiting = new CompletableFuture<>();
                Thread reader = new Thread(() -> {
                    try {
                        waiting.complete(latest.poll(10, Duration.ofSeconds(10)));
                    } catch (Throwable e) {
                        waiting.completeExceptionally(e);
                    }
                }, "blocked-reader");
                reader.start();
                // the append comes once the reader blocks in poll
                Await.until("the reader blocks in poll", () -> reader.getState() == Thread.State.TIMED_WAITING);
                log.append(0, event("d", 200)).get(30, TimeUnit.SECONDS);
                List<StoredEvent> got = waiting.get(30, TimeUnit.SECONDS);
                assertEquals(1, got.size());
                assertEquals(200, got.get(0).sequenceNumber());
            }
        }
    }

    @Test
    void retentionRemovesWholeOldSegmentsAndReadersMoveOn() throws Exception {
        SegmentedEventLog.Options options = SegmentedEventLog.Options.defaults().withPartitions(1)
                .withSegmentBytes(4096).withRetention(Duration.ofDays(1), 16 * 1024);
        try (SegmentedEventLog log = new SegmentedEventLog(dir, options)) {
            EventReader early = log.openReader(0, StartPosition.earliest());
            for (int i = 0; i < 1000; i++) {
                log.append(0, event("d", i)).get(30, TimeUnit.SECONDS);
            }
            log.runRetention();
            PartitionInfo info = log.partitionInfo(0);
            assertTrue(info.retainedBytes() <= 16 * 1024 + 4096, "retained " + info.retainedBytes());
            assertTrue(info.beginSequenceNumber() > 0);
            assertEquals(999, info.lastSequenceNumber());
            List<StoredEvent> rest = early.poll(2000, Duration.ofMillis(100));
            assertEquals(info.beginSequenceNumber(), rest.get(0).sequenceNumber());
            assertEquals(999, rest.get(rest.size() - 1).sequenceNumber());
            early.close();
        }
    }

    @Test
    void badPartitionsAreRefusedWithPartitionNotFound() throws IOException {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults())) {
            CompletableFuture<EventPosition> bad = log.append(7, event("d", 0));
            assertTrue(bad.isCompletedExceptionally());
        }
    }
}
