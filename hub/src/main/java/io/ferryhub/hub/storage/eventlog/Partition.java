package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * One partition: an ordered list of segments, written by the log's writer thread, read by any number of readers.
 * Readers see only the committed (fsynced) prefix; {@link #committedEnd} moves after each group commit.
 */
final class Partition {
    private static final Logger log = LoggerFactory.getLogger(Partition.class);

    final int id;
    private final Path dir;
    private final long segmentBytes;
    /** baseOffset -> segment; readers look segments up concurrently with retention and rolling. */
    private final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
    private final Object commitSignal = new Object();
    private volatile boolean closed;

    // writer-thread state
    private long nextSequenceNumber;
    private long lastEnqueuedTimeMillis;

    // committed state, read by readers
    private volatile long committedEnd;
    private volatile long committedLastSequenceNumber = -1;
    private volatile long committedLastOffset = -1;
    private volatile long committedLastEnqueuedTime;

    Partition(int id, Path dir, long segmentBytes) throws IOException {
        this.id = id;
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        OwnerOnlyFiles.createDirectories(dir);
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(Segment.SUFFIX)).sorted().toList();
        }
        for (Path file : files) {
            Segment segment = Segment.recover(file, id);
            segments.put(segment.baseOffset, segment);
        }
        // a segment emptied by recovery is kept only if it is the last one: it then becomes the active segment
        for (Segment s : List.copyOf(segments.values())) {
            if (s.isEmpty() && s != segments.lastEntry().getValue()) {
                segments.remove(s.baseOffset);
                s.delete();
            }
        }
        if (segments.isEmpty()) {
            Segment first = Segment.create(dir, 0);
            segments.put(0L, first);
        }
        Segment last = segments.lastEntry().getValue();
        Segment lastWithData = segments.values().stream().filter(s -> !s.isEmpty()).reduce((a, b) -> b).orElse(null);
        if (lastWithData != null) {
            nextSequenceNumber = lastWithData.lastSequenceNumber() + 1;
            lastEnqueuedTimeMillis = lastWithData.lastEnqueuedTimeMillis();
            committedLastSequenceNumber = lastWithData.lastSequenceNumber();
            committedLastEnqueuedTime = lastEnqueuedTimeMillis;
        }
        committedEnd = last.endOffset();
        committedLastOffset = lastWithData == null ? -1 : findLastOffset(lastWithData);
    }

    private long findLastOffset(Segment segment) throws IOException {
        long position = segment.positionAtOrBeforeSequence(segment.lastSequenceNumber());
        long last = position;
        while (position < segment.size()) {
            last = position;
            position += EventRecordCodec.recordSize(readFully(segment, position, 4));
        }
        return segment.baseOffset + last;
    }

    // ---- writer thread ----

    long nextSequenceNumber() {
        return nextSequenceNumber;
    }

    long assignEnqueuedTime() {
        // enqueued times never go backwards within a partition, so readers can seek by time
        lastEnqueuedTimeMillis = Math.max(System.currentTimeMillis(), lastEnqueuedTimeMillis);
        return lastEnqueuedTimeMillis;
    }

    /**
     * Writes one already-encoded batch of records (whole records only) to the active segment, rolling to a new
     * segment first when it would overflow. Returns the segment written.
     */
    Segment write(ByteBuffer records, List<long[]> recordMeta) throws IOException {
        Segment active = segments.lastEntry().getValue();
        if (active.size() > 0 && active.size() + records.remaining() > segmentBytes) {
            active = roll(active);
        }
        long position = active.size();
        int bytes = records.remaining();
        while (records.hasRemaining()) {
            position += active.channel.write(records, position);
        }
        long start = active.size();
        for (long[] meta : recordMeta) { // {relativePosition, sequenceNumber, enqueuedTime}
            active.indexRecord(start + meta[0], meta[1], meta[2]);
        }
        nextSequenceNumber = recordMeta.get(recordMeta.size() - 1)[1] + 1;
        active.grow(bytes);
        return active;
    }

    private Segment roll(Segment full) throws IOException {
        Segment next = Segment.create(dir, full.endOffset());
        segments.put(next.baseOffset, next);
        log.debug("partition {}: rolled to segment {}", id, next.path.getFileName());
        return next;
    }

    /** Makes everything written so far visible to readers; called after the fsync. */
    void commit(long lastOffset) {
        Segment active = segments.lastEntry().getValue();
        committedLastSequenceNumber = nextSequenceNumber - 1;
        committedLastOffset = lastOffset;
        committedLastEnqueuedTime = lastEnqueuedTimeMillis;
        committedEnd = active.endOffset();
        synchronized (commitSignal) {
            commitSignal.notifyAll();
        }
    }

    /** Removes whole segments older than the cut-off or beyond the size budget; never the active segment. */
    void applyRetention(long oldestKeptTimeMillis, long maxBytes) {
        while (segments.size() > 1) {
            Map.Entry<Long, Segment> oldest = segments.firstEntry();
            Segment segment = oldest.getValue();
            boolean tooOld = segment.lastEnqueuedTimeMillis() < oldestKeptTimeMillis;
            boolean tooBig = retainedBytes() > maxBytes;
            if (!tooOld && !tooBig) {
                return;
            }
            segments.remove(oldest.getKey());
            try {
                segment.delete();
                log.info("partition {}: retention removed {} (events up to sequence number {}, {})", id,
                        segment.path.getFileName(), segment.lastSequenceNumber(), tooOld ? "expired" : "over size");
            } catch (IOException e) {
                log.warn("partition {}: cannot delete {}: {}", id, segment.path.getFileName(), e.toString());
            }
        }
    }

    long retainedBytes() {
        long total = 0;
        for (Segment s : segments.values()) {
            total += s.size();
        }
        return total;
    }

    // ---- readers ----

    long committedEnd() {
        return committedEnd;
    }

    long beginOffset() {
        return segments.firstKey();
    }

    PartitionInfo info() {
        Segment first = segments.firstEntry().getValue();
        long lastSeq = committedLastSequenceNumber;
        long begin = first.isEmpty() ? lastSeq + 1 : first.firstSequenceNumber();
        return new PartitionInfo(id, begin, lastSeq, committedLastOffset, committedLastEnqueuedTime, retainedBytes());
    }

    /** Blocks until the committed end passes {@code offset}, the deadline passes, or the thread is interrupted. */
    void awaitCommitBeyond(long offset, long deadlineNanos) throws InterruptedException {
        synchronized (commitSignal) {
            while (committedEnd <= offset) {
                long waitNanos = deadlineNanos - System.nanoTime();
                if (waitNanos <= 0) {
                    return;
                }
                commitSignal.wait(Math.max(1, waitNanos / 1_000_000));
            }
        }
    }

    void wakeReaders() {
        synchronized (commitSignal) {
            commitSignal.notifyAll();
        }
    }

    /**
     * Reads committed events from {@code offset} (a record boundary) on: at most {@code max} of them and, past the
     * first, about {@code maxBytes}. An offset before the oldest retained event reads from the oldest.
     */
    List<StoredEvent> read(long offset, int max, int maxBytes) throws IOException {
        List<StoredEvent> events = new ArrayList<>();
        long bytes = 0;
        long end = committedEnd;
        while (events.size() < max && bytes < maxBytes && offset < end) {
            if (closed) {
                throw new ClosedChannelException();
            }
            Map.Entry<Long, Segment> entry = segments.floorEntry(offset);
            if (entry == null) {
                offset = beginOffset();
                continue;
            }
            Segment segment = entry.getValue();
            long position = offset - segment.baseOffset;
            long readable = Math.min(segment.size(), end - segment.baseOffset) - position;
            if (readable <= 0) {
                Long next = segments.higherKey(entry.getKey());
                if (next == null) {
                    break;
                }
                offset = next;
                continue;
            }
            try {
                ByteBuffer buffer = readFully(segment, position,
                        (int) Math.min(readable, Math.max(maxBytes - bytes, 64 * 1024)));
                int size = EventRecordCodec.recordSize(buffer);
                if (size > buffer.remaining()) {
                    buffer = readFully(segment, position, size); // one record larger than the chunk
                }
                while (events.size() < max && bytes < maxBytes) {
                    size = EventRecordCodec.recordSize(buffer);
                    if (size < 0 || size > buffer.remaining()) {
                        break;
                    }
                    events.add(EventRecordCodec.decode(buffer, id, offset));
                    offset += size;
                    bytes += size;
                }
            } catch (ClosedChannelException removedByRetention) {
                if (closed) {
                    throw removedByRetention;
                }
                offset = Math.max(offset, beginOffset());
            }
        }
        return events;
    }

    private static ByteBuffer readFully(Segment segment, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining() && segment.channel.read(buffer, position + buffer.position()) > 0) {
            // keep reading: a positional read may return fewer bytes than asked
        }
        return buffer.flip();
    }

    /** The offset of the first event with sequence number >= {@code sequenceNumber} (the committed end if none). */
    long offsetOfSequence(long sequenceNumber) throws IOException {
        for (Segment segment : segments.values()) {
            if (segment.isEmpty() || segment.lastSequenceNumber() < sequenceNumber) {
                continue;
            }
            long position = sequenceNumber <= segment.firstSequenceNumber() ? 0
                    : segment.positionAtOrBeforeSequence(sequenceNumber);
            return scanForward(segment, position, buffer -> EventRecordCodec.sequenceNumberAt(buffer) >= sequenceNumber);
        }
        return committedEnd;
    }

    /** The offset of the first event enqueued at or after {@code timeMillis} (the committed end if none). */
    long offsetOfTime(long timeMillis) throws IOException {
        for (Segment segment : segments.values()) {
            if (segment.isEmpty() || segment.lastEnqueuedTimeMillis() < timeMillis) {
                continue;
            }
            long position = segment.positionBeforeTime(timeMillis);
            return scanForward(segment, position, buffer -> EventRecordCodec.enqueuedTimeAt(buffer) >= timeMillis);
        }
        return committedEnd;
    }

    /** The first record boundary at or after {@code offset}: readers may be handed any offset. */
    long boundaryAtOrAfter(long offset) throws IOException {
        if (offset <= beginOffset()) {
            return beginOffset();
        }
        if (offset >= committedEnd) {
            return committedEnd;
        }
        Map.Entry<Long, Segment> entry = segments.floorEntry(offset);
        Segment segment = entry.getValue();
        long target = offset - segment.baseOffset;
        return scanForward(segment, segment.indexedPositionAtOrBefore(target), buffer -> false, target);
    }

    private interface RecordTest {
        boolean matches(ByteBuffer recordStart);
    }

    private long scanForward(Segment segment, long position, RecordTest test) throws IOException {
        return scanForward(segment, position, test, Long.MAX_VALUE);
    }

    /** Walks records from {@code position}; stops at the first that passes {@code test} or starts at/after {@code stopAt}. */
    private long scanForward(Segment segment, long position, RecordTest test, long stopAt) throws IOException {
        long size = Math.min(segment.size(), committedEnd - segment.baseOffset);
        while (position < size && position < stopAt) {
            ByteBuffer header = readFully(segment, position, EventRecordCodec.HEADER_BYTES);
            if (test.matches(header)) {
                break;
            }
            position += EventRecordCodec.recordSize(header);
        }
        return segment.baseOffset + position;
    }

    void close() {
        closed = true;
        segments.values().forEach(Segment::close);
        wakeReaders();
    }
}
