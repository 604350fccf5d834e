package io.ferryhub.bench.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * A stream held open and idle until the far end closes it: opened with one echoed byte (so it is known to be joined
 * end to end), then waiting. Records when the path closed it, for measuring how fast a revocation reaches it.
 */
final class HeldStreamHandler extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<HeldStreamHandler> open = new CompletableFuture<>();
    private final CompletableFuture<Long> closedAtNanos = new CompletableFuture<>();

    /** Completes when the first byte came back: the stream is relayed end to end. */
    CompletableFuture<HeldStreamHandler> open() {
        return open;
    }

    /** Completes with {@link System#nanoTime()} at the moment the connection was closed. */
    CompletableFuture<Long> closedAtNanos() {
        return closedAtNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ctx.alloc().buffer(2).writeByte(TargetServer.ECHO).writeByte(0));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ((ByteBuf) msg).release();
        open.complete(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closedAtNanos.complete(System.nanoTime());
        open.completeExceptionally(new IOException("stream closed before it was open"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        open.completeExceptionally(cause);
        ctx.close();
    }
}
