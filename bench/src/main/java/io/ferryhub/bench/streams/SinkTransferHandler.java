package io.ferryhub.bench.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Sends {@code totalBytes} to the target's sink as fast as the path takes them (writing only while the channel is
 * writable) and completes with the nanoseconds from the first byte sent to the sink's confirmation. With
 * {@link Long#MAX_VALUE} bytes it is a bulk load that runs until {@link #stop()}.
 */
final class SinkTransferHandler extends ChannelInboundHandlerAdapter {
    private static final int CHUNK = 64 * 1024;

    private final long totalBytes;
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private volatile long remaining;
    private long startNanos;
    private volatile Channel channel;

    SinkTransferHandler(long totalBytes) {
        this.totalBytes = totalBytes;
        this.remaining = totalBytes;
    }

    CompletableFuture<Long> done() {
        return done;
    }

    /** Bytes handed to the path so far. */
    long bytesWritten() {
        return totalBytes - remaining;
    }

    void stop() {
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
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
