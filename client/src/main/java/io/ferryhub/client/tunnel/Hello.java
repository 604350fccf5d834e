package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;

/** A parsed HELLO: the first frame each side sends on every link of a session. */
record Hello(int version, int flags, byte[] sessionId, long received) {
    static Hello parse(ByteBuf frame) {
        if (TunnelFrame.type(frame) != TunnelFrame.HELLO) {
            throw new IllegalArgumentException("the first frame is not a HELLO: " + TunnelFrame.describe(frame));
        }
        ByteBuf body = TunnelFrame.body(frame);
        if (body.readableBytes() < 26) {
            throw new IllegalArgumentException("short HELLO");
        }
        int version = body.readUnsignedByte();
        int flags = body.readUnsignedByte();
        byte[] id = new byte[16];
        body.readBytes(id);
        return new Hello(version, flags, id, body.readLong());
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
