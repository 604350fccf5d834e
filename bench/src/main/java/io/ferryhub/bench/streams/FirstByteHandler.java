package io.ferryhub.bench.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Stream set-up time as a user sees it: from the TCP connect to the local end of a path until the first byte sent
 * comes back from the echo. Through a device stream this covers the POST, the device's answer, both WebSocket
 * connections to the gateway and the device's connection to the target. Closes the connection when done.
 */
final class FirstByteHandler extends ChannelInboundHandlerAdapter {
    private final long connectStartNanos;
    private final CompletableFuture<Long> done = new CompletableFuture<>();

    FirstByteHandler(long connectStartNanos) {
        this.connectStartNanos = connectStartNanos;
    }

    CompletableFuture<Long> done() {
        return done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ctx.alloc().buffer(2).writeByte(TargetServer.ECHO).writeByte(1));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        boolean got = buf.isReadable();
        ReferenceCountUtil.release(buf);
        if (got && done.complete(System.nanoTime() - connectStartNanos)) {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done.completeExceptionally(new IOException("closed before the first byte came back"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        done.completeExceptionally(cause);
        ctx.close();
    }
}
