package io.ferryhub.bench.streams;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * One of many concurrent streams: keeps {@code window} bytes in flight through the echo for as long as it pumps,
 * adding every byte that comes back to a shared counter.
 */
final class EchoPumpHandler extends ChannelInboundHandlerAdapter {
    private static final int CHUNK = 16 * 1024;

    private final int window;
    private final LongAdder echoedBytes;
    private final CompletableFuture<EchoPumpHandler> ready = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private boolean pumping;
    private long inFlight;

    EchoPumpHandler(int window, LongAdder echoedBytes) {
        this.window = window;
        this.echoedBytes = echoedBytes;
    }

    /** Completes when the first byte came back: the stream is open end to end. */
    CompletableFuture<EchoPumpHandler> ready() {
        return ready;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.writeAndFlush(ctx.alloc().buffer(2).writeByte(TargetServer.ECHO).writeByte(0));
        inFlight = 1;
    }

    void start() {
        ctx.executor().execute(() -> {
            pumping = true;
            fill();
        });
    }

    void stop() {
        ctx.executor().execute(() -> pumping = false);
    }

    void close() {
        ctx.close();
    }

    private void fill() {
        boolean wrote = false;
        while (pumping && inFlight + CHUNK <= window) {
            ByteBuf chunk = ctx.alloc().buffer(CHUNK);
            chunk.writeZero(CHUNK);
            inFlight += CHUNK;
            ctx.write(chunk);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        int n = buf.readableBytes();
        ReferenceCountUtil.release(buf);
        inFlight -= n;
        if (!ready.isDone()) {
            ready.complete(this);
            return;
        }
        echoedBytes.add(n);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        fill();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ready.completeExceptionally(new java.io.IOException("stream closed before it was open"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ready.completeExceptionally(cause);
        ctx.close();
    }
}
