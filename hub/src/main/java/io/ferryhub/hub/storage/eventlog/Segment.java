package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.common.files.OwnerOnlyFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * One file of a partition: events from {@link #baseOffset} on, appended by the log's writer thread only. A sparse
 * in-memory index (one entry per {@value #INDEX_INTERVAL_BYTES} bytes) maps sequence numbers and enqueued times to
 * file positions, so readers seek without scanning the whole file.
 */
final class Segment {
    private static final Logger log = LoggerFactory.getLogger(Segment.class);
    static final String SUFFIX = ".events";
    private static final int INDEX_INTERVAL_BYTES = 16 * 1024;

    final Path path;
    final long baseOffset;
    final FileChannel channel;
    /** Bytes written (by the writer thread); readers use the partition's committed end instead. */
    private volatile long size;
    private long firstSequenceNumber = -1;
    private volatile long lastSequenceNumber = -1;
    private volatile long lastEnqueuedTimeMillis;
    private long lastIndexedPosition = -INDEX_INTERVAL_BYTES;

    // index arrays, guarded by this
    private long[] indexPositions = new long[64];
    private long[] indexSequenceNumbers = new long[64];
    private long[] indexTimes = new long[64];
    private int indexSize;

    private Segment(Path path, long baseOffset, FileChannel channel) {
        this.path = path;
        this.baseOffset = baseOffset;
        this.channel = channel;
    }

    static Path pathFor(Path dir, long baseOffset) {
        return dir.resolve(String.format("%020d%s", baseOffset, SUFFIX));
    }

    static Segment create(Path dir, long baseOffset) throws IOException {
        Path path = pathFor(dir, baseOffset);
        FileChannel channel = OwnerOnlyFiles.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        return new Segment(path, baseOffset, channel);
    }

    /**
     * Opens an existing segment, rebuilding its index; a torn or damaged tail is cut off (it was never
     * acknowledged: acknowledgement follows fsync, and fsync follows a complete write).
     */
    static Segment recover(Path path, int partition) throws IOException {
        String name = path.getFileName().toString();
        long baseOffset = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Segment segment = new Segment(path, baseOffset, channel);
        long fileSize = channel.size();
        long position = 0;
        ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
        scan:
        while (position < fileSize) {
            buffer.clear();
            channel.read(buffer, position);
            buffer.flip();
            while (true) {
                int recordSize;
                try {
                    recordSize = EventRecordCodec.recordSize(buffer);
                } catch (EventRecordCodec.CorruptRecordException e) {
                    break scan;
                }
                if (recordSize < 0 || recordSize > buffer.remaining()) {
                    if (recordSize > buffer.capacity()) {
                        buffer = ByteBuffer.allocate(recordSize);
                    }
                    if (position + Math.max(recordSize, 4) > fileSize) {
                        break scan; // short record: torn tail
                    }
                    break; // refill from this record's position
                }
                try {
                    EventRecordCodec.decode(buffer.duplicate(), partition, baseOffset + position);
                } catch (EventRecordCodec.CorruptRecordException e) {
                    break scan;
                }
                segment.indexRecord(position, EventRecordCodec.sequenceNumberAt(buffer),
                        EventRecordCodec.enqueuedTimeAt(buffer));
                buffer.position(buffer.position() + recordSize);
                position += recordSize;
            }
        }
        if (position < fileSize) {
            log.warn("partition {}: cutting {} bytes of incomplete or damaged data off {} (never acknowledged)",
                    partition, fileSize - position, path.getFileName());
            channel.truncate(position);
            channel.force(true);
        }
        segment.size = position;
        return segment;
    }

    /** Records that an event was written at {@code position}; called by the writer thread (and recovery). */
    void indexRecord(long position, long sequenceNumber, long enqueuedTimeMillis) {
        if (firstSequenceNumber < 0) {
            firstSequenceNumber = sequenceNumber;
        }
        lastSequenceNumber = sequenceNumber;
        lastEnqueuedTimeMillis = enqueuedTimeMillis;
        if (position - lastIndexedPosition >= INDEX_INTERVAL_BYTES) {
            synchronized (this) {
                if (indexSize == indexPositions.length) {
                    indexPositions = Arrays.copyOf(indexPositions, indexSize * 2);
                    indexSequenceNumbers = Arrays.copyOf(indexSequenceNumbers, indexSize * 2);
                    indexTimes = Arrays.copyOf(indexTimes, indexSize * 2);
                }
                indexPositions[indexSize] = position;
                indexSequenceNumbers[indexSize] = sequenceNumber;
                indexTimes[indexSize] = enqueuedTimeMillis;
                indexSize++;
            }
            lastIndexedPosition = position;
        }
    }

    void grow(long bytes) {
        size += bytes;
    }

    long size() {
        return size;
    }

    long endOffset() {
        return baseOffset + size;
    }

    boolean isEmpty() {
        return lastSequenceNumber < 0;
    }

    long firstSequenceNumber() {
        return firstSequenceNumber;
    }

    long lastSequenceNumber() {
        return lastSequenceNumber;
    }

    long lastEnqueuedTimeMillis() {
        return lastEnqueuedTimeMillis;
    }

    /** The file position of the last indexed event with a sequence number at or below {@code sequenceNumber}. */
    synchronized long positionAtOrBeforeSequence(long sequenceNumber) {
        int i = lastIndexAtOrBelow(indexSequenceNumbers, sequenceNumber);
        return i < 0 ? 0 : indexPositions[i];
    }

    /** The last indexed record position at or before {@code position}. */
    synchronized long indexedPositionAtOrBefore(long position) {
        int i = lastIndexAtOrBelow(indexPositions, position);
        return i < 0 ? 0 : indexPositions[i];
    }

    /** The file position of the last indexed event enqueued strictly before {@code timeMillis}. */
    synchronized long positionBeforeTime(long timeMillis) {
        int i = lastIndexAtOrBelow(indexTimes, timeMillis - 1);
        return i < 0 ? 0 : indexPositions[i];
    }

    private int lastIndexAtOrBelow(long[] keys, long key) {
        int lo = 0;
        int hi = indexSize - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (keys[mid] <= key) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("closing {}: {}", path.getFileName(), e.toString());
        }
    }

    void delete() throws IOException {
        close();
        Files.deleteIfExists(path);
    }
}
