package io.ferryhub.bench.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The benchmark's telemetry body: the publish time (System.nanoTime of the load generator, which also reads the
 * messages back, so clocks agree), the publishing connection and a sequence number, padded with zeros to the
 * configured size.
 */
public final class TelemetryPayload {
    public static final int HEADER_BYTES = 16;

    private TelemetryPayload() {
    }

    public static ByteBuf create(ByteBufAllocator alloc, int size, long sentNanos, int connection, int sequence) {
        ByteBuf buf = alloc.buffer(size);
        buf.writeLong(sentNanos);
        buf.writeInt(connection);
        buf.writeInt(sequence);
        buf.writeZero(size - HEADER_BYTES);
        return buf;
    }

    /** The publish time in a payload read back, or -1 when it is not one of ours. */
    public static long sentNanos(ByteBuf payload) {
        return payload.readableBytes() >= HEADER_BYTES ? payload.getLong(payload.readerIndex()) : -1;
    }

    public static long sentNanos(byte[] payload) {
        if (payload.length < HEADER_BYTES) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (payload[i] & 0xff);
        }
        return value;
    }
}
