package io.ferryhub.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.signaling.StreamToken;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The file format of a stream recording (docs/recordings-and-audit.md): a first line of JSON naming the stream
 * ({@code "format":"ferryhub-recording/1"}, stream id, device, module, stream name, initiator, mode, start, and
 * {@code first}: which side, {@code device} or {@code service}, connected first; absent from recordings made before
 * it was recorded), then one record per message relayed, big-endian: {@code direction:u8 (0 first->second,
 * 1 second->first) micros:u64 (since the start) length:u32 bytes}. A recording cut short (the hub killed) ends with a partial
 * record, which readers ignore. A tunnel session's recording holds its tunnel frames, one per record; the
 * readers below take its channels apart.
 */
public final class StreamRecording {
    public static final String FORMAT = "ferryhub-recording/1";
    public static final String SUFFIX = ".ferryrec";
    public static final int FIRST_TO_SECOND = 0;
    public static final int SECOND_TO_FIRST = 1;

    /** One relayed message. */
    public record Entry(int direction, long micros, byte[] bytes) {
    }

    /** A recording read back: its header and its messages in order. */
    public record Contents(JsonNode header, List<Entry> entries) {
        /** The side that connected first, or null when the recording does not say (made before it was recorded). */
        public StreamToken.Side firstSide() {
            return StreamToken.Side.ofLabel(header.path("first").asText(null));
        }

        /** The direction of what {@code side} sent, or -1 when the recording does not say which end is which. */
        public int sentBy(StreamToken.Side side) {
            StreamToken.Side first = firstSide();
            return first == null ? -1 : first == side ? FIRST_TO_SECOND : SECOND_TO_FIRST;
        }

        /** Every byte sent in one direction, concatenated. */
        public byte[] bytes(int direction) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Entry e : entries) {
                if (e.direction() == direction) {
                    out.writeBytes(e.bytes());
                }
            }
            return out.toByteArray();
        }

        /** For a tunnel session's recording: each channel opened in it and its target, in order. */
        public Map<Long, String> tunnelChannels() {
            Map<Long, String> channels = new LinkedHashMap<>();
            for (Entry e : entries) {
                ByteBuffer frame = ByteBuffer.wrap(e.bytes());
                if (frame.remaining() >= TUNNEL_HEADER + 4 && frame.get(0) == TunnelWatch.OPEN) {
                    channels.put(Integer.toUnsignedLong(frame.getInt(1)), new String(e.bytes(), TUNNEL_HEADER + 4,
                            e.bytes().length - TUNNEL_HEADER - 4, StandardCharsets.UTF_8));
                }
            }
            return channels;
        }

        /** For a tunnel session's recording: the payload one channel carried in one direction, concatenated. */
        public byte[] tunnelChannelBytes(int direction, long channel) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Entry e : entries) {
                ByteBuffer frame = ByteBuffer.wrap(e.bytes());
                if (e.direction() == direction && frame.remaining() > TUNNEL_HEADER
                        && frame.get(0) == TunnelWatch.DATA && Integer.toUnsignedLong(frame.getInt(1)) == channel) {
                    out.write(e.bytes(), TUNNEL_HEADER, e.bytes().length - TUNNEL_HEADER);
                }
            }
            return out.toByteArray();
        }
    }

    private static final int TUNNEL_HEADER = 5;

    private StreamRecording() {
    }

    public static Contents read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            for (int b = raw.read(); b != '\n'; b = raw.read()) {
                if (b < 0 || line.size() > 64 * 1024) {
                    throw new IOException(file + " is not a stream recording (no header line)");
                }
                line.write(b);
            }
            JsonNode header;
            try {
                header = Json.parse(line.toString(StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " is not a stream recording (header is not JSON)");
            }
            if (!FORMAT.equals(header.path("format").asText())) {
                throw new IOException(file + " is not a " + FORMAT + " recording");
            }
            DataInputStream in = new DataInputStream(raw);
            List<Entry> entries = new ArrayList<>();
            while (true) {
                try {
                    int direction = in.readUnsignedByte();
                    long micros = in.readLong();
                    int length = in.readInt();
                    if (direction > 1 || length < 0 || length > 64 * 1024 * 1024) {
                        throw new IOException(file + ": corrupt record after " + entries.size() + " records");
                    }
                    byte[] bytes = new byte[length];
                    in.readFully(bytes);
                    entries.add(new Entry(direction, micros, bytes));
                } catch (EOFException end) {
                    return new Contents(header, entries);
                }
            }
        }
    }
}
