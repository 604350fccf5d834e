package io.ferryhub.bench.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Sends {@code totalBytes} to the target's sink as fast as the path takes them (writing only while the channel is
 * writable) and completes with the nanoseconds from the first byte sent to the sink's confirmation.
 */
final class SinkTransferHandler extends ChannelInboundHandlerAdapter {
    private static final int CHUNK = 64 * 1024;

    private final long totalBytes;
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private long remaining;
    private long startNanos;

    SinkTransferHandler(long totalBytes) {
        this.totalBytes = totalBytes;
        this.remaining = totalBytes;
    }

    CompletableFuture<Long> done() {
        return done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startNanos = System.nanoTime();
        ByteBuf header = ctx.alloc().buffer(9);
        header.writeByte(TargetServer.SINK).writeLong(totalBytes);
        ctx.write(header);
        pump(ctx);
    }

    private void pump(ChannelHandlerContext ctx) {
        while (remaining > 0 && ctx.channel().isWritable()) {
            int size = (int) Math.min(CHUNK, remaining);
            ByteBuf chunk = ctx.alloc().buffer(size);
            chunk.writeZero(size);
            remaining -= size;
            ctx.write(chunk);
        }
        ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            pump(ctx);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            if (buf.isReadable() && buf.readByte() == TargetServer.SINK_DONE) {
                done.complete(System.nanoTime() - startNanos);
                ctx.close();
            }
        } finally {
            ReferenceCountUtil.release(buf);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done.completeExceptionally(new IOException("connection closed after " + (totalBytes - remaining)
                + " of " + totalBytes + " bytes were written"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        done.completeExceptionally(cause);
        ctx.close();
    }
}
