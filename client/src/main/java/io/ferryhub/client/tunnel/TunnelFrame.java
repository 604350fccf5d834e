package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

import java.nio.charset.StandardCharsets;

/**
 * The frames of tunnel protocol {@value #SUBPROTOCOL}: one frame per binary WebSocket message, big-endian,
 * {@code type:u8 channel:u32 body}. docs/tunnels.md documents the format for other implementations.
 */
public final class TunnelFrame {
    /** The WebSocket sub-protocol, and the stream name a proxy requests to open a tunnel session. */
    public static final String SUBPROTOCOL = "ferryhub.tunnel.v1";
    public static final int VERSION = 1;
    public static final int HEADER = 5;
    /** The largest DATA payload a peer sends; a receiver accepts up to {@link #MAX_FRAME}. */
    public static final int MAX_DATA = 32 * 1024;
    public static final int MAX_FRAME = 64 * 1024;

    public static final byte HELLO = 1;
    public static final byte OPEN = 2;
    public static final byte OPEN_OK = 3;
    public static final byte OPEN_FAIL = 4;
    public static final byte DATA = 5;
    public static final byte WINDOW = 6;
    public static final byte CLOSE = 7;
    public static final byte ACK = 8;
    public static final byte END = 9;
    /**
     * From the gateway only, never numbered: the stream policy no longer allows the channel; close it at once,
     * without the CLOSE exchange (the peer was sent the same).
     */
    public static final byte REVOKE = 10;

    /** HELLO flags. */
    public static final int FLAG_RESUME = 1;
    public static final int FLAG_UNKNOWN_SESSION = 2;

    private TunnelFrame() {
    }

    /**
     * HELLO and ACK concern the link, not the session: they are not numbered and never replayed; nor is the
     * gateway's REVOKE, which neither peer sent.
     */
    public static boolean sequenced(byte type) {
        return type != HELLO && type != ACK && type != REVOKE;
    }

    public static byte type(ByteBuf frame) {
        return frame.getByte(frame.readerIndex());
    }

    public static int channel(ByteBuf frame) {
        return frame.getInt(frame.readerIndex() + 1);
    }

    /** The body (after the header), as a slice sharing the frame's memory. */
    public static ByteBuf body(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + HEADER, frame.readableBytes() - HEADER);
    }

    static ByteBuf hello(ByteBufAllocator alloc, int flags, byte[] sessionId, long received) {
        ByteBuf b = header(alloc, HELLO, 0, 2 + sessionId.length + 8);
        return b.writeByte(VERSION).writeByte(flags).writeBytes(sessionId).writeLong(received);
    }

    static ByteBuf open(ByteBufAllocator alloc, int channel, int window, String target) {
        byte[] name = target.getBytes(StandardCharsets.UTF_8);
        return header(alloc, OPEN, channel, 4 + name.length).writeInt(window).writeBytes(name);
    }

    static ByteBuf openOk(ByteBufAllocator alloc, int channel, int window) {
        return header(alloc, OPEN_OK, channel, 4).writeInt(window);
    }

    static ByteBuf withReason(ByteBufAllocator alloc, byte type, int channel, String reason) {
        byte[] text = truncate(reason);
        return header(alloc, type, channel, text.length).writeBytes(text);
    }

    /** A DATA frame: header in a small buffer, the payload appended without copying. */
    static ByteBuf data(ByteBufAllocator alloc, int channel, ByteBuf payload) {
        ByteBuf header = header(alloc, DATA, channel, 0);
        return alloc.compositeBuffer(2).addComponents(true, header, payload);
    }

    static ByteBuf window(ByteBufAllocator alloc, int channel, int increment) {
        return header(alloc, WINDOW, channel, 4).writeInt(increment);
    }

    static ByteBuf ack(ByteBufAllocator alloc, long received) {
        return header(alloc, ACK, 0, 8).writeLong(received);
    }

    static String text(ByteBuf body) {
        return body.toString(StandardCharsets.UTF_8);
    }

    static String describe(ByteBuf frame) {
        return "type " + type(frame) + " channel " + channel(frame) + " (" + frame.readableBytes() + " bytes: "
                + ByteBufUtil.hexDump(frame, frame.readerIndex(), Math.min(16, frame.readableBytes())) + ")";
    }

    private static ByteBuf header(ByteBufAllocator alloc, byte type, int channel, int body) {
        return alloc.buffer(HEADER + body).writeByte(type).writeInt(channel);
    }

    private static byte[] truncate(String reason) {
        byte[] text = (reason == null ? "" : reason).getBytes(StandardCharsets.UTF_8);
        return text.length <= 512 ? text : java.util.Arrays.copyOf(text, 512);
    }
}
