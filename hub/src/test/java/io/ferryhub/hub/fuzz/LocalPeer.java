package io.ferryhub.hub.fuzz;

import io.ferryhub.testsupport.Await;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Runs a server pipeline of the hub on Netty's in-VM transport (no sockets): one real event loop, so handlers and
 * the services' threads interact as in production. A fuzz input is written by a client channel; the exchange ends
 * when the server is quiet (its loop has handled the input and {@code settled} holds), then the client closes and the
 * server side must close too. An exception that reaches the end of the server pipeline is recorded.
 */
public final class LocalPeer implements AutoCloseable {
    /** What a server answered and whether anything went wrong that the handlers did not handle. */
    public record Exchange(byte[] answer, Throwable unhandled, Channel server) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    private final LocalAddress address = new LocalAddress("fuzz-" + UUID.randomUUID());
    private final BlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    private final Channel serverChannel;

    public LocalPeer(Consumer<ChannelPipeline> serverPipeline) throws InterruptedException {
        serverChannel = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        serverPipeline.accept(ch.pipeline());
                        ch.pipeline().addLast(TailRecorder.NAME, new TailRecorder());
                        accepted.add(ch);
                    }
                }).bind(address).sync().channel();
    }

    /**
     * Writes {@code input}, waits until the server's loop has handled it and {@code settled} holds for the server's
     * channel (or the deadline passes), closes the client and waits for the server's channel to close.
     *
     * @throws AssertionError when the server's channel does not close within the deadline after the client closed
     */
    public Exchange exchange(byte[] input, Duration deadline, Predicate<Channel> settled) throws Exception {
        long end = System.nanoTime() + deadline.toNanos();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        Channel client = new Bootstrap().group(group).channel(LocalChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof ByteBuf b) {
                            byte[] bytes = new byte[b.readableBytes()];
                            b.readBytes(bytes);
                            synchronized (answer) {
                                answer.writeBytes(bytes);
                            }
                        }
                        io.netty.util.ReferenceCountUtil.release(msg);
                    }
                }).connect(address).sync().channel();
        Channel server = accepted.poll(remaining(end), TimeUnit.NANOSECONDS);
        if (server == null) {
            throw new AssertionError("the server did not accept the connection");
        }
        try {
            client.writeAndFlush(Unpooled.wrappedBuffer(input)).await(remaining(end), TimeUnit.NANOSECONDS);
            quiet(server, end);
            // off-loop work (a REST handler, an authentication) may still be running
            Await.within(Duration.ofNanos(remaining(end)), () -> !server.isOpen() || settled.test(server));
            quiet(server, end);
        } finally {
            client.close().await(remaining(end), TimeUnit.NANOSECONDS);
        }
        if (!server.closeFuture().await(remaining(end), TimeUnit.NANOSECONDS)) {
            throw new AssertionError("the server's side did not close after the client closed");
        }
        TailRecorder tail = server.pipeline().get(TailRecorder.class);
        Throwable unhandled = tail == null ? null : tail.seen.get();
        synchronized (answer) {
            return new Exchange(answer.toByteArray(), unhandled, server);
        }
    }

    /** Lets the server's event loop run everything queued so far (twice: a task may queue another). */
    private static void quiet(Channel server, long end) throws Exception {
        for (int i = 0; i < 2; i++) {
            server.eventLoop().submit(() -> { }).await(remaining(end), TimeUnit.NANOSECONDS);
        }
    }

    private static long remaining(long end) {
        return Math.max(1, end - System.nanoTime());
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /** The last handler: records an exception no handler of the hub dealt with. */
    static final class TailRecorder extends ChannelInboundHandlerAdapter {
        static final String NAME = "fuzz-tail";
        final AtomicReference<Throwable> seen = new AtomicReference<>();

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            seen.compareAndSet(null, cause);
            ctx.close();
        }
    }
}
