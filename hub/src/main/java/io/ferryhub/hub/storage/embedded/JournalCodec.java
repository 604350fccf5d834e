package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The journal's file format. A file starts with an 8-byte magic; then records
 * {@code [int payloadLength][int crc32c(payload)][payload]}, one per commit, where the payload is
 * {@code [int count]} then per mutation
 * {@code [byte put?][short nsLength][ns][int keyLength][key][int valueLength][value]}.
 * A record is the unit of atomicity: a torn or corrupt record at the tail is a commit that was never acknowledged.
 */
final class JournalCodec {
    static final byte[] MAGIC = "FHJRNL01".getBytes(StandardCharsets.US_ASCII);
    private static final int RECORD_HEADER = 8;
    /** A sanity bound that stops a corrupt length field from allocating gigabytes during recovery. */
    static final int MAX_RECORD_BYTES = 256 * 1024 * 1024;
    private static final int READ_CHUNK = 8 * 1024 * 1024;

    private JournalCodec() {
    }

    static int encodedSize(Mutation m) {
        return 1 + 2 + utf8Length(m.namespace()) + 4 + utf8Length(m.key()) + 4
                + (m.value() == null ? 0 : m.value().length);
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** One record holding {@code mutations}, ready to write. */
    static ByteBuffer encode(List<Mutation> mutations) {
        int payload = 4;
        for (Mutation m : mutations) {
            payload += encodedSize(m);
        }
        if (payload > MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("commit of " + payload + " bytes exceeds the journal's record limit");
        }
        ByteBuffer buf = ByteBuffer.allocate(RECORD_HEADER + payload);
        buf.position(RECORD_HEADER);
        buf.putInt(mutations.size());
        for (Mutation m : mutations) {
            byte[] ns = m.namespace().getBytes(StandardCharsets.UTF_8);
            byte[] key = m.key().getBytes(StandardCharsets.UTF_8);
            if (ns.length > Short.MAX_VALUE) {
                throw new IllegalArgumentException("namespace too long");
            }
            buf.put((byte) (m.value() == null ? 0 : 1));
            buf.putShort((short) ns.length).put(ns);
            buf.putInt(key.length).put(key);
            if (m.value() == null) {
                buf.putInt(0);
            } else {
                buf.putInt(m.value().length).put(m.value());
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), RECORD_HEADER, payload);
        buf.putInt(0, payload).putInt(4, (int) crc.getValue());
        buf.flip();
        return buf;
    }

    /**
     * Reads records from {@code channel} (after the magic) and hands each record's mutations to {@code apply}.
     * Stops at the end or at the first torn or corrupt record. Reads in large chunks: a registry of a million
     * devices is a million records, and a system call per record would dominate the start-up time.
     *
     * @return the file offset after the last good record: where the journal continues
     */
    static long replay(FileChannel channel, Consumer<List<Mutation>> apply) throws IOException {
        long size = channel.size();
        long position = MAGIC.length;
        ByteBuffer window = ByteBuffer.allocate(READ_CHUNK);
        window.flip();
        long windowStart = position; // file offset of window.position()
        while (true) {
            if (window.remaining() < RECORD_HEADER) {
                if (!refill(channel, window, windowStart, size, RECORD_HEADER)) {
                    return position;
                }
            }
            int length = window.getInt(window.position());
            int expectedCrc = window.getInt(window.position() + 4);
            if (length < 4 || length > MAX_RECORD_BYTES || position + RECORD_HEADER + length > size) {
                return position;
            }
            if (window.remaining() < RECORD_HEADER + length) {
                if (window.capacity() < RECORD_HEADER + length) {
                    ByteBuffer bigger = ByteBuffer.allocate(RECORD_HEADER + length);
                    bigger.put(window).flip();
                    window = bigger;
                }
                if (!refill(channel, window, windowStart, size, RECORD_HEADER + length)) {
                    return position;
                }
            }
            int payloadStart = window.position() + RECORD_HEADER;
            CRC32C crc = new CRC32C();
            crc.update(window.array(), window.arrayOffset() + payloadStart, length);
            if ((int) crc.getValue() != expectedCrc) {
                return position;
            }
            ByteBuffer payload = window.duplicate();
            payload.position(payloadStart).limit(payloadStart + length);
            apply.accept(decode(payload.slice()));
            window.position(payloadStart + length);
            position += RECORD_HEADER + length;
            windowStart = position;
        }
    }

    /**
     * Moves the unread bytes to the front of {@code window} and reads more after them, until at least {@code needed}
     * bytes are available; false at the end of the file.
     */
    private static boolean refill(FileChannel channel, ByteBuffer window, long unreadStart, long size, int needed)
            throws IOException {
        int unread = window.remaining();
        window.compact();
        long readFrom = unreadStart + unread;
        while (window.position() < needed && readFrom < size) {
            int n = channel.read(window, readFrom);
            if (n < 0) {
                break;
            }
            readFrom += n;
        }
        window.flip();
        return window.remaining() >= needed;
    }

    static boolean hasMagic(FileChannel channel) throws IOException {
        if (channel.size() < MAGIC.length) {
            return false;
        }
        ByteBuffer magic = ByteBuffer.allocate(MAGIC.length);
        readFully(channel, magic, 0);
        return Arrays.equals(magic.array(), MAGIC);
    }

    private static List<Mutation> decode(ByteBuffer payload) {
        int count = payload.getInt();
        List<Mutation> mutations = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            boolean put = payload.get() != 0;
            String ns = string(payload, payload.getShort());
            String key = string(payload, payload.getInt());
            int valueLength = payload.getInt();
            byte[] value = null;
            if (put) {
                value = new byte[valueLength];
                payload.get(value);
            }
            mutations.add(new Mutation(ns, key, value));
        }
        return mutations;
    }

    private static String string(ByteBuffer buf, int length) {
        byte[] bytes = new byte[length];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void readFully(FileChannel channel, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = channel.read(buf, position + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of journal");
            }
        }
    }
}
