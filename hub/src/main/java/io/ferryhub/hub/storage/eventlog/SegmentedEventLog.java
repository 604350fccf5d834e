package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embedded event stream: per partition, a directory of append-only segment files.
 *
 * <p>Durability with throughput comes from group commit: every append goes through one writer thread, which takes
 * all appends waiting at that moment, writes each partition's share with one write call, fsyncs each touched file
 * once, and only then completes the appends' futures (so a device's PUBACK means "on stable storage"). Under load
 * one fsync covers hundreds of events; when idle an event waits for one fsync only.
 *
 * <p>Retention removes whole segments, oldest first, once all their events are older than the retention time or
 * the partition is over its size budget. The active segment is never removed.
 */
public final class SegmentedEventLog implements EventLog {
    private static final Logger log = LoggerFactory.getLogger(SegmentedEventLog.class);

    /**
     * @param segmentBytes a segment is closed and a new one started past this size
     * @param retention    events older than this are removed (IoT Hub: 1 day by default, up to 7)
     * @param maxBytesPerPartition the size budget of one partition
     * @param fsync        false only for benchmarks: acknowledged events may then be lost on a crash
     * @param maxPendingAppends appends waiting for the writer beyond this fail with ThrottlingException
     */
    public record Options(int partitions, long segmentBytes, Duration retention, long maxBytesPerPartition,
                          boolean fsync, int maxPendingAppends) {
        public static Options defaults() {
            return new Options(4, 64L * 1024 * 1024, Duration.ofDays(1), 8L * 1024 * 1024 * 1024, true, 100_000);
        }

        public Options withPartitions(int count) {
            return new Options(count, segmentBytes, retention, maxBytesPerPartition, fsync, maxPendingAppends);
        }

        public Options withRetention(Duration time, long bytesPerPartition) {
            return new Options(partitions, segmentBytes, time, bytesPerPartition, fsync, maxPendingAppends);
        }

        public Options withSegmentBytes(long bytes) {
            return new Options(partitions, bytes, retention, maxBytesPerPartition, fsync, maxPendingAppends);
        }

        public Options withFsync(boolean on) {
            return new Options(partitions, segmentBytes, retention, maxBytesPerPartition, on, maxPendingAppends);
        }
    }

    private record Append(int partition, EventData event, CompletableFuture<EventPosition> result) {
    }

    private final Options options;
    private final Partition[] partitions;
    private final BlockingQueue<Append> pending;
    private final Thread writer;
    private final ScheduledExecutorService retentionTimer;
    /** Flushes the other partitions' files while the writer flushes one: a batch costs one fsync's latency. */
    private final ExecutorService syncers;
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong appended = new AtomicLong();
    private volatile boolean closed;
    private volatile IOException failure;

    public SegmentedEventLog(Path dir, Options options) throws IOException {
        if (options.partitions() < 1 || options.partitions() > 32) {
            throw new IllegalArgumentException("partitions must be 1..32, got " + options.partitions());
        }
        this.options = options;
        this.partitions = new Partition[options.partitions()];
        for (int p = 0; p < partitions.length; p++) {
            partitions[p] = new Partition(p, dir.resolve("partition-" + p), options.segmentBytes());
        }
        this.pending = new ArrayBlockingQueue<>(options.maxPendingAppends());
        this.syncers = options.fsync() && partitions.length > 1
                ? Executors.newFixedThreadPool(partitions.length - 1, Threads.daemonFactory("event-log-fsync"))
                : null;
        this.writer = Threads.daemon(this::writeLoop, "event-log-writer");
        this.writer.start();
        this.retentionTimer = Executors.newSingleThreadScheduledExecutor(Threads.daemonFactory("event-log-retention"));
        this.retentionTimer.scheduleWithFixedDelay(Threads.periodic("event log retention", this::applyRetention), 1,
                60, TimeUnit.SECONDS);
        long events = 0;
        for (Partition p : partitions) {
            PartitionInfo info = p.info();
            events += info.isEmpty() ? 0 : info.lastSequenceNumber() - info.beginSequenceNumber() + 1;
        }
        log.info("event log open: {} partitions, {} events retained, fsync {}", partitions.length, events,
                options.fsync() ? "on (group commit)" : "OFF");
    }

    @Override
    public int partitionCount() {
        return partitions.length;
    }

    @Override
    public CompletableFuture<EventPosition> append(int partition, EventData event) {
        CompletableFuture<EventPosition> result = new CompletableFuture<>();
        if (partition < 0 || partition >= partitions.length) {
            result.completeExceptionally(new HubException(HubErrorCode.PartitionNotFound, "no partition " + partition));
        } else if (closed) {
            result.completeExceptionally(new HubException(HubErrorCode.ServiceUnavailable, "the event log is closed"));
        } else if (failure != null) {
            result.completeExceptionally(new HubException(HubErrorCode.ServerError,
                    "the event log cannot write: " + failure.getMessage()));
        } else if (EventRecordCodec.encodedSize(event) > EventRecordCodec.MAX_RECORD_BYTES) {
            result.completeExceptionally(new HubException(HubErrorCode.MessageTooLarge, "event too large to store"));
        } else if (!pending.offer(new Append(partition, event, result))) {
            result.completeExceptionally(new HubException(HubErrorCode.ThrottlingException,
                    "the event log is behind by " + options.maxPendingAppends() + " events"));
        }
        return result;
    }

    private void writeLoop() {
        List<Append> batch = new ArrayList<>();
        while (!closed || !pending.isEmpty()) {
            try {
                Append first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                pending.drainTo(batch);
                writeBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // the writer goes on: dead, it would leave every later append waiting forever
                log.error("event log writer: unexpected failure", e);
                batch.forEach(a -> a.result().completeExceptionally(e));
            } finally {
                batch.clear();
            }
        }
        // anything still queued after close is refused, never silently dropped
        Append left;
        while ((left = pending.poll()) != null) {
            left.result().completeExceptionally(new HubException(HubErrorCode.ServiceUnavailable, "the event log closed"));
        }
    }

    private void writeBatch(List<Append> batch) {
        Map<Integer, List<Append>> byPartition = new HashMap<>();
        for (Append a : batch) {
            byPartition.computeIfAbsent(a.partition(), k -> new ArrayList<>()).add(a);
        }
        Map<Segment, Boolean> touched = new IdentityHashMap<>();
        Map<Integer, List<EventPosition>> positions = new HashMap<>();
        Map<Integer, IOException> failed = new HashMap<>();
        for (Map.Entry<Integer, List<Append>> entry : byPartition.entrySet()) {
            Partition partition = partitions[entry.getKey()];
            try {
                positions.put(entry.getKey(), writePartition(partition, entry.getValue(), touched));
            } catch (IOException e) {
                failed.put(entry.getKey(), e);
            }
        }
        if (options.fsync()) {
            try {
                forceAll(touched.keySet());
            } catch (IOException e) {
                // which partition's events are now uncertain: fail every append of the batch, stop accepting
                fail(e);
                batch.forEach(a -> a.result().completeExceptionally(new HubException(HubErrorCode.ServerError,
                        "fsync failed: " + e.getMessage())));
                return;
            }
            fsyncs.addAndGet(touched.size());
        }
        for (Map.Entry<Integer, List<Append>> entry : byPartition.entrySet()) {
            IOException error = failed.get(entry.getKey());
            if (error != null) {
                fail(error);
                entry.getValue().forEach(a -> a.result().completeExceptionally(new HubException(HubErrorCode.ServerError,
                        "write failed: " + error.getMessage())));
                continue;
            }
            List<EventPosition> written = positions.get(entry.getKey());
            partitions[entry.getKey()].commit(written.get(written.size() - 1).offset());
            List<Append> appends = entry.getValue();
            for (int i = 0; i < appends.size(); i++) {
                appends.get(i).result().complete(written.get(i));
            }
            appended.addAndGet(appends.size());
        }
    }

    /**
     * fsyncs every file a batch touched, concurrently: on a shared or networked disk an fsync's latency, not its
     * bandwidth, is what a batch waits for, and devices serve concurrent flushes in about the time of one.
     */
    private void forceAll(Set<Segment> segments) throws IOException {
        List<Future<?>> others = new ArrayList<>();
        Segment own = null;
        for (Segment segment : segments) {
            if (own == null) {
                own = segment;
            } else {
                others.add(syncers.submit(() -> {
                    segment.channel.force(false);
                    return null;
                }));
            }
        }
        IOException failed = null;
        if (own != null) {
            try {
                own.channel.force(false);
            } catch (IOException e) {
                failed = e;
            }
        }
        for (Future<?> other : others) {
            try {
                other.get();
            } catch (ExecutionException e) {
                failed = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed = new IOException("interrupted while waiting for fsync");
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    private List<EventPosition> writePartition(Partition partition, List<Append> appends, Map<Segment, Boolean> touched)
            throws IOException {
        int total = 0;
        for (Append a : appends) {
            total += EventRecordCodec.encodedSize(a.event());
        }
        ByteBuffer records = ByteBuffer.allocate(total);
        List<long[]> meta = new ArrayList<>(appends.size());
        List<EventPosition> result = new ArrayList<>(appends.size());
        long sequenceNumber = partition.nextSequenceNumber();
        for (Append a : appends) {
            long enqueued = partition.assignEnqueuedTime();
            meta.add(new long[]{records.position(), sequenceNumber, enqueued});
            EventRecordCodec.encode(records, sequenceNumber, enqueued, a.event());
            sequenceNumber++;
        }
        records.flip();
        long sizeBefore;
        Segment segment = partition.write(records, meta);
        sizeBefore = segment.size() - total;
        touched.put(segment, Boolean.TRUE);
        for (int i = 0; i < appends.size(); i++) {
            long[] m = meta.get(i);
            result.add(new EventPosition(partition.id, m[1], segment.baseOffset + sizeBefore + m[0], m[2]));
        }
        return result;
    }

    private void fail(IOException e) {
        if (failure == null) {
            failure = e;
            log.error("event log: storage failure, refusing further appends: {}", e.toString());
        }
    }

    private void applyRetention() {
        long cutoff = System.currentTimeMillis() - options.retention().toMillis();
        for (Partition p : partitions) {
            p.applyRetention(cutoff, options.maxBytesPerPartition());
        }
    }

    /** Runs retention now (it also runs every minute). */
    public void runRetention() {
        applyRetention();
    }

    @Override
    public EventReader openReader(int partition, StartPosition start) {
        if (partition < 0 || partition >= partitions.length) {
            throw new HubException(HubErrorCode.PartitionNotFound, "no partition " + partition);
        }
        Partition p = partitions[partition];
        try {
            return new PartitionReader(p, startOffset(p, start));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long startOffset(Partition p, StartPosition start) throws IOException {
        if (start instanceof StartPosition.Earliest) {
            return p.beginOffset();
        }
        if (start instanceof StartPosition.Latest) {
            return p.committedEnd();
        }
        if (start instanceof StartPosition.Offset o) {
            long at = p.boundaryAtOrAfter(o.offset());
            return !o.inclusive() && at == o.offset() && at < p.committedEnd() ? skipOne(p, at) : at;
        }
        if (start instanceof StartPosition.SequenceNumber s) {
            return p.offsetOfSequence(s.inclusive() ? s.sequenceNumber() : s.sequenceNumber() + 1);
        }
        return p.offsetOfTime(((StartPosition.EnqueuedTime) start).time().toEpochMilli());
    }

    private static long skipOne(Partition p, long offset) throws IOException {
        List<StoredEvent> one = p.read(offset, 1, 1);
        return one.isEmpty() ? offset : offset + EventRecordCodec.encodedSize(one.get(0).data());
    }

    @Override
    public PartitionInfo partitionInfo(int partition) {
        if (partition < 0 || partition >= partitions.length) {
            throw new HubException(HubErrorCode.PartitionNotFound, "no partition " + partition);
        }
        return partitions[partition].info();
    }

    /** fsync calls made so far: with group commit, far fewer than {@link #appendedCount()} under load. */
    public long fsyncCount() {
        return fsyncs.get();
    }

    public long appendedCount() {
        return appended.get();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        retentionTimer.shutdownNow();
        if (syncers != null) {
            syncers.shutdownNow();
        }
        for (Partition p : partitions) {
            p.close();
        }
        log.info("event log closed after {} appends and {} fsyncs", appended.get(), fsyncs.get());
    }

    private static final class PartitionReader implements EventReader {
        private final Partition partition;
        private volatile long nextOffset;
        private volatile boolean closed;

        PartitionReader(Partition partition, long offset) {
            this.partition = partition;
            this.nextOffset = offset;
        }

        @Override
        public List<StoredEvent> poll(int max, Duration wait) throws InterruptedException {
            long deadline = System.nanoTime() + wait.toNanos();
            while (!closed) {
                if (nextOffset < partition.beginOffset()) {
                    nextOffset = partition.beginOffset(); // retention passed this reader by
                }
                if (nextOffset < partition.committedEnd()) {
                    try {
                        List<StoredEvent> events = partition.read(nextOffset, max, 1024 * 1024);
                        if (!events.isEmpty()) {
                            StoredEvent last = events.get(events.size() - 1);
                            nextOffset = last.offset() + EventRecordCodec.encodedSize(last.data());
                            return events;
                        }
                    } catch (IOException e) {
                        if (closed) {
                            break;
                        }
                        throw new UncheckedIOException(e);
                    }
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
                partition.awaitCommitBeyond(nextOffset, deadline);
            }
            return List.of();
        }

        @Override
        public long nextOffset() {
            return nextOffset;
        }

        @Override
        public void close() {
            closed = true;
            partition.wakeReaders();
        }
    }
}
