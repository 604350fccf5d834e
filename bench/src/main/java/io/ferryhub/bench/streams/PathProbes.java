package io.ferryhub.bench.streams;

import io.ferryhub.bench.report.LatencyRecorder;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The measurements every path gets, each a fresh TCP connection to the path's local end. */
final class PathProbes {
    private final Bootstrap bootstrap;

    PathProbes(EventLoopGroup group) {
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
    }

    /** Nanoseconds to push {@code bytes} through the path into the sink. */
    CompletableFuture<Long> transfer(StreamPath path, long bytes) {
        SinkTransferHandler handler = new SinkTransferHandler(bytes);
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (!f.isSuccess()) {
                handler.done().completeExceptionally(f.cause());
            }
        });
        return handler.done();
    }

    CompletableFuture<Void> pingPong(StreamPath path, int count, int warmup, int size, LatencyRecorder recorder) {
        PingPongHandler handler = new PingPongHandler(count, warmup, size, recorder);
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (!f.isSuccess()) {
                handler.done().completeExceptionally(f.cause());
            }
        });
        return handler.done();
    }

    /** Nanoseconds from the connect to the first byte echoed back. */
    CompletableFuture<Long> firstByte(StreamPath path) {
        FirstByteHandler handler = new FirstByteHandler(System.nanoTime());
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (!f.isSuccess()) {
                handler.done().completeExceptionally(f.cause());
            }
        });
        return handler.done();
    }

    /** Starts a bulk transfer into the sink that runs until {@link SinkTransferHandler#stop()}. */
    CompletableFuture<SinkTransferHandler> bulk(StreamPath path) {
        SinkTransferHandler handler = new SinkTransferHandler(Long.MAX_VALUE);
        CompletableFuture<SinkTransferHandler> connected = new CompletableFuture<>();
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (f.isSuccess()) {
                connected.complete(handler);
            } else {
                connected.completeExceptionally(f.cause());
            }
        });
        return connected;
    }

    /** Opens a stream that pumps echo traffic once started. */
    CompletableFuture<EchoPumpHandler> openPump(StreamPath path, int window, LongAdder echoedBytes) {
        EchoPumpHandler handler = new EchoPumpHandler(window, echoedBytes);
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (!f.isSuccess()) {
                handler.ready().completeExceptionally(f.cause());
            }
        });
        return handler.ready();
    }

    /** Opens a stream and holds it idle once the first byte came back through it. */
    CompletableFuture<HeldStreamHandler> hold(StreamPath path) {
        HeldStreamHandler handler = new HeldStreamHandler();
        bootstrap.clone().handler(handler).connect(path.address()).addListener(f -> {
            if (!f.isSuccess()) {
                handler.open().completeExceptionally(f.cause());
            }
        });
        return handler.open();
    }

    /**
     * New streams per second: {@code concurrency} loops each opening a stream, waiting for its first echoed byte,
     * closing it and opening the next, until {@code deadlineNanos}. Completes with {successes, failures}.
     */
    CompletableFuture<long[]> churn(StreamPath path, int concurrency, long deadlineNanos, LatencyRecorder setups) {
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        CompletableFuture<long[]> done = new CompletableFuture<>();
        AtomicLong running = new AtomicLong(concurrency);
        for (int i = 0; i < concurrency; i++) {
            churnLoop(path, deadlineNanos, setups, ok, failed, running, done);
        }
        return done;
    }

    private void churnLoop(StreamPath path, long deadlineNanos, LatencyRecorder setups, AtomicLong ok,
                           AtomicLong failed, AtomicLong running,
                           CompletableFuture<long[]> done) {
        if (System.nanoTime() >= deadlineNanos) {
            if (running.decrementAndGet() == 0) {
                done.complete(new long[]{ok.get(), failed.get()});
            }
            return;
        }
        firstByte(path).whenComplete((nanos, error) -> {
            if (error == null) {
                ok.incrementAndGet();
                setups.record(nanos);
            } else {
                failed.incrementAndGet();
            }
            churnLoop(path, deadlineNanos, setups, ok, failed, running, done);
        });
    }
}
