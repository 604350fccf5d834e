package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The on-disk form of one event:
 * {@code int length | int crc32c | long sequenceNumber | long enqueuedTimeMillis | properties | body}, where
 * {@code length} counts every byte after itself and the CRC covers every byte after itself. A torn write at the
 * end of a segment shows as a short record or a CRC mismatch and is cut off on recovery.
 */
final class EventRecordCodec {
    /** length + crc + sequence number + enqueued time. */
    static final int HEADER_BYTES = 4 + 4 + 8 + 8;
    /** Guards recovery against a garbage length field; far above IoT Hub's 256 KB message limit. */
    static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    private EventRecordCodec() {
    }

    static int encodedSize(EventData event) {
        return HEADER_BYTES + mapSize(event.systemProperties()) + mapSize(event.applicationProperties())
                + 4 + event.body().length;
    }

    private static int mapSize(Map<String, String> map) {
        int size = 4;
        for (Map.Entry<String, String> e : map.entrySet()) {
            size += 8 + utf8Length(e.getKey()) + utf8Length(e.getValue());
        }
        return size;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Writes the record at the buffer's position; the buffer must have {@link #encodedSize} bytes left. */
    static void encode(ByteBuffer out, long sequenceNumber, long enqueuedTimeMillis, EventData event) {
        int start = out.position();
        out.putInt(0).putInt(0).putLong(sequenceNumber).putLong(enqueuedTimeMillis);
        putMap(out, event.systemProperties());
        putMap(out, event.applicationProperties());
        out.putInt(event.body().length).put(event.body());
        int end = out.position();
        out.putInt(start, end - start - 4);
        CRC32C crc = new CRC32C();
        ByteBuffer covered = out.duplicate().position(start + 8).limit(end);
        crc.update(covered);
        out.putInt(start + 4, (int) crc.getValue());
    }

    private static void putMap(ByteBuffer out, Map<String, String> map) {
        out.putInt(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) {
            putString(out, e.getKey());
            putString(out, e.getValue());
        }
    }

    private static void putString(ByteBuffer out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.putInt(bytes.length).put(bytes);
    }

    /**
     * The total size of the record starting at the buffer's position, or -1 if the buffer does not hold its
     * length field yet. Throws {@link CorruptRecordException} for an impossible length.
     */
    static int recordSize(ByteBuffer in) {
        if (in.remaining() < 4) {
            return -1;
        }
        int length = in.getInt(in.position());
        if (length < HEADER_BYTES - 4 || length > MAX_RECORD_BYTES) {
            throw new CorruptRecordException("impossible record length " + length);
        }
        return length + 4;
    }

    /**
     * Decodes the record at the buffer's position (which must hold all {@link #recordSize} bytes) and advances
     * past it. Throws {@link CorruptRecordException} on a CRC mismatch or malformed content.
     */
    static StoredEvent decode(ByteBuffer in, int partition, long offset) {
        int start = in.position();
        int size = recordSize(in);
        int storedCrc = in.getInt(start + 4);
        CRC32C crc = new CRC32C();
        crc.update(in.duplicate().position(start + 8).limit(start + size));
        if ((int) crc.getValue() != storedCrc) {
            throw new CorruptRecordException("CRC mismatch at offset " + offset);
        }
        try {
            ByteBuffer record = in.duplicate().position(start + 8).limit(start + size);
            long sequenceNumber = record.getLong();
            long enqueued = record.getLong();
            Map<String, String> system = getMap(record);
            Map<String, String> application = getMap(record);
            byte[] body = new byte[record.getInt()];
            record.get(body);
            in.position(start + size);
            return new StoredEvent(partition, sequenceNumber, offset, enqueued, new EventData(system, application, body));
        } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
            throw new CorruptRecordException("malformed record at offset " + offset);
        }
    }

    /** Reads only the sequence number and enqueued time of the record at the buffer's position. */
    static long sequenceNumberAt(ByteBuffer in) {
        return in.getLong(in.position() + 8);
    }

    static long enqueuedTimeAt(ByteBuffer in) {
        return in.getLong(in.position() + 16);
    }

    private static Map<String, String> getMap(ByteBuffer in) {
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / 8) {
            throw new IllegalArgumentException("bad property count");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            map.put(getString(in), getString(in));
        }
        return map;
    }

    private static String getString(ByteBuffer in) {
        byte[] bytes = new byte[in.getInt()];
        in.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A record that fails its checks: a torn tail on recovery, or damage. */
    static final class CorruptRecordException extends RuntimeException {
        CorruptRecordException(String message) {
            super(message);
        }
    }
}
