package io.ferryhub.bench.streams;

import io.ferryhub.bench.report.LatencyRecorder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/**
 * Round trips through the echo: sends {@code size} bytes, waits until all come back, records the time, repeats
 * {@code count} times, one message in flight. The first {@code warmup} round trips are not recorded.
 */
final class PingPongHandler extends ChannelInboundHandlerAdapter {
    private final int count;
    private final int warmup;
    private final int size;
    private final LatencyRecorder recorder;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private int sent;
    private int pendingBytes;
    private long sentAt;

    PingPongHandler(int count, int warmup, int size, LatencyRecorder recorder) {
        this.count = count;
        this.warmup = warmup;
        this.size = size;
        this.recorder = recorder;
    }

    CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.write(ctx.alloc().buffer(1).writeByte(TargetServer.ECHO));
        ping(ctx);
    }

    private void ping(ChannelHandlerContext ctx) {
        ByteBuf message = ctx.alloc().buffer(size);
        message.writeZero(size);
        pendingBytes = size;
        sent++;
        sentAt = System.nanoTime();
        ctx.writeAndFlush(message);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        pendingBytes -= buf.readableBytes();
        ReferenceCountUtil.release(buf);
        if (pendingBytes > 0) {
            return;
        }
        if (sent > warmup) {
            recorder.record(System.nanoTime() - sentAt);
        }
        if (sent < count + warmup) {
            ping(ctx);
        } else {
            done.complete(null);
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done.completeExceptionally(new IOException("connection closed after " + sent + " round trips"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        done.completeExceptionally(cause);
        ctx.close();
    }
}
