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
 * {@code [int count]} then per mutation {@code [byte put?][short nsLength][ns][int keyLength][key][int valueLength][value]}.
 * A record is the unit of atomicity: a torn or corrupt record at the tail is a commit that was never acknowledged.
 */
final class JournalCodec {
    static final byte[] MAGIC = "FHJRNL01".getBytes(StandardCharsets.US_ASCII);
    private static final int RECORD_HEADER = 8;
    /** A sanity bound that stops a corrupt length field from allocating gigabytes during recovery. */
    static final int MAX_RECORD_BYTES = 256 * 1024 * 1024;

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
     * Reads records from {@code channel} (positioned after the magic) and hands each record's mutations to
     * {@code apply}. Stops at the end or at the first torn or corrupt record.
     *
     * @return the file offset after the last good record: where the journal continues
     */
    static long replay(FileChannel channel, Consumer<List<Mutation>> apply) throws IOException {
        long position = MAGIC.length;
        long size = channel.size();
        ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
        while (position + RECORD_HEADER <= size) {
            header.clear();
            readFully(channel, header, position);
            int length = header.getInt(0);
            int expectedCrc = header.getInt(4);
            if (length < 4 || length > MAX_RECORD_BYTES || position + RECORD_HEADER + length > size) {
                break;
            }
            ByteBuffer payload = ByteBuffer.allocate(length);
            readFully(channel, payload, position + RECORD_HEADER);
            CRC32C crc = new CRC32C();
            crc.update(payload.array(), 0, length);
            if ((int) crc.getValue() != expectedCrc) {
                break;
            }
            apply.accept(decode(payload));
            position += RECORD_HEADER + length;
        }
        return position;
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
        payload.flip();
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
