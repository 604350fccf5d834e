package io.ferryhub.common.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Sits at the end of a pipeline between "connected" and "joined to its peer". It keeps reading, so that a close or
 * a drop is noticed while waiting, and keeps the data that arrives; past {@link #LIMIT} bytes it stops reading, so
 * memory stays bounded. {@link Relay#join} removes it and replays what it held, so no byte is lost.
 */
public final class HoldingHandler extends ChannelInboundHandlerAdapter {
    public static final String NAME = "relay-hold";
    static final int LIMIT = 64 * 1024;

    private final Queue<Object> held = new ArrayDeque<>();
    private int heldBytes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.add(msg);
        heldBytes += msg instanceof ByteBuf buf ? buf.readableBytes()
                : msg instanceof ByteBufHolder holder ? holder.content().readableBytes() : 0;
        if (heldBytes >= LIMIT) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Not joined yet, so nobody else would notice: a broken connection just goes.
        ctx.close();
    }

    /** Hands the held messages over (in order) and forgets them. */
    public Queue<Object> drain() {
        Queue<Object> out = new ArrayDeque<>(held);
        held.clear();
        heldBytes = 0;
        return out;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        held.forEach(ReferenceCountUtil::release);
        held.clear();
    }
}
