package io.ferryhub.client.tunnel;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;
import java.time.Duration;

/**
 * Channel windows that grow, and shrink back beside another channel: two tunnel sessions over a real WebSocket on loopback whose frames each side reads
 * through a delay line (a long network path), so a channel's initial window, not the path, holds a bulk sender
 * back. The receiver must grow the window, never past the maximum, never hold more than that unwritten, give the
 * window back to its configured size once a second channel moves data, and deliver every byte intact.
 */
class TunnelWindowTest {
    private static final int INITIAL_WINDOW = 64 * 1024;
    private static final int MAX_WINDOW = 1024 * 1024;
    private static final long DELAY_MILLIS = 5;
    private static final long WAIT_SECONDS = 120;

    private final TunnelConfig config = TunnelConfig.defaults().withChannelWindow(INITIAL_WINDOW, MAX_WINDOW);
    private final CompletableFuture<TunnelSession> acceptor = new CompletableFuture<>();
    private final CompletableFuture<TunnelSession> initiator = new CompletableFuture<>();
    private EventLoopGroup group;
    private ServerSocket sink;
    private Channel webSocketServer;
    private Channel localListener;
    /** Each accepted local connection and the loop it was accepted on. */
    private final java.util.Map<Channel, EventLoop> accepted = new java.util.concurrent.ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        sink = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        webSocketServer = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192),
                                new WebSocketServerProtocolHandler("/tunnel", TunnelFrame.SUBPROTOCOL),
                                new DelayLine(), new LinkReady(ch, TunnelSession.Role.ACCEPTOR, acceptor));
                    }
                }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        int wsPort = ((InetSocketAddress) webSocketServer.localAddress()).getPort();
        WebSocketClientProtocolConfig client = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(URI.create("ws://127.0.0.1:" + wsPort + "/tunnel"))
                .version(WebSocketVersion.V13).subprotocol(TunnelFrame.SUBPROTOCOL).build();
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(8192),
                                new WebSocketClientProtocolHandler(client), new DelayLine(),
                                new LinkReady(ch, TunnelSession.Role.INITIATOR, initiator));
                    }
                }).connect(InetAddress.getLoopbackAddress(), wsPort).sync();
        TunnelSession session = initiator.get(WAIT_SECONDS, TimeUnit.SECONDS);
        acceptor.get(WAIT_SECONDS, TimeUnit.SECONDS);
        // Each connection accepted here becomes a channel of the initiating session, to the acceptor's sink.
        localListener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.put(ch, ch.eventLoop());
                        session.openChannel(ch, "sink");
                    }
                }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
    }

    @AfterEach
    void stop() throws Exception {
        for (CompletableFuture<TunnelSession> s : java.util.List.of(initiator, acceptor)) {
            if (s.isDone()) {
                s.get().end("test over").get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        }
        if (localListener != null) {
            localListener.close().sync();
        }
        webSocketServer.close().sync();
        sink.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    @Test
    void aBulkChannelsWindowGrowsWithinTheMaximumAndItsBytesArriveIntact() throws Exception {
        long size = 48L << 20;
        CompletableFuture<Transfer> received = CompletableFuture.supplyAsync(() -> readAll(acceptSink()));
        try (Socket out = connectLocal()) {
            Transfer sent = writeSeeded(out, size, new AtomicBoolean());
            Transfer got = received.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(size, got.bytes());
            assertArrayEquals(sent.digest(), got.digest());
        }

        TunnelSession receiver = acceptor.get();
        assertTrue(receiver.largestChannelWindow() > INITIAL_WINDOW,
                "the window stayed at " + receiver.largestChannelWindow() + " bytes");
        assertTrue(receiver.largestChannelWindow() <= MAX_WINDOW,
                "the window grew to " + receiver.largestChannelWindow() + " bytes");
        assertTrue(receiver.mostBufferedBytes() > 0 && receiver.mostBufferedBytes() <= MAX_WINDOW,
                "the receiver held " + receiver.mostBufferedBytes() + " bytes of one channel");
        // Nothing flowed the other way: the sender never had a reason to grow its own window.
        assertEquals(INITIAL_WINDOW, initiator.get().largestChannelWindow());
    }

    @Test
    void aGrownWindowGoesBackWhenAnotherChannelMovesData() throws Exception {
        TunnelSession receiver = acceptor.get();
        AtomicBoolean stop = new AtomicBoolean();
        try (Socket bulk = connectLocal()) {
            CompletableFuture<Transfer> sent = CompletableFuture.supplyAsync(() -> writeSeeded(bulk, Long.MAX_VALUE,
                    stop));
            Socket bulkSink = acceptSink();
            CompletableFuture<Transfer> received = CompletableFuture.supplyAsync(() -> readAll(bulkSink));
            await(() -> receiver.largestChannelWindow() > INITIAL_WINDOW, "the bulk channel's window never grew");
            assertEquals(0, receiver.windowsShrunk());

            byte[] ping = new byte[1024];
            Arrays.fill(ping, (byte) 7);
            try (Socket chat = connectLocal()) {
                chat.getOutputStream().write(ping);
                try (Socket chatSink = acceptSink()) {
                    assertArrayEquals(ping, chatSink.getInputStream().readNBytes(ping.length));
                }
            }
            await(() -> receiver.windowsShrunk() > 0, "the bulk channel's window did not go back");

            stop.set(true);
            Transfer out = sent.get(WAIT_SECONDS, TimeUnit.SECONDS);
            Transfer in = received.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(out.bytes(), in.bytes());
            assertArrayEquals(out.digest(), in.digest());
        }
        assertTrue(receiver.mostBufferedBytes() <= MAX_WINDOW,
                "the receiver held " + receiver.mostBufferedBytes() + " bytes of one channel");
    }

    private record Transfer(long bytes, byte[] digest) {
    }

    @Test
    void connectionsAcceptedOnAnotherLoopAreRelayedOnTheSessionsLoopBothWays() throws Exception {
        EventLoop sessionLoop = initiator.get().loop();
        int connections = 4;
        for (int i = 0; i < connections; i++) {
            byte[] request = ("request " + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            byte[] reply = ("reply " + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            try (Socket out = connectLocal()) {
                out.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                out.getOutputStream().write(request);
                out.getOutputStream().flush();
                try (Socket in = acceptSink()) {
                    in.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    assertArrayEquals(request, in.getInputStream().readNBytes(request.length));
                    in.getOutputStream().write(reply);
                    in.getOutputStream().flush();
                    assertArrayEquals(reply, out.getInputStream().readNBytes(reply.length));
                }
            }
        }
        assertEquals(connections, accepted.size());
        // the listener hands connections to both loops in turn: some start away from the session's
        assertTrue(accepted.values().stream().anyMatch(loop -> loop != sessionLoop),
                "every connection was accepted on the session's loop; nothing to move");
        accepted.forEach((ch, loop) -> assertTrue(ch.eventLoop() == sessionLoop,
                "a connection accepted on " + loop + " was relayed on " + ch.eventLoop() + ", not on the session's "
                        + sessionLoop));
    }

    private Socket connectLocal() throws Exception {
        return new Socket(InetAddress.getLoopbackAddress(),
                ((InetSocketAddress) localListener.localAddress()).getPort());
    }

    private Socket acceptSink() {
        try {
            sink.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            return sink.accept();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(BooleanSupplier condition, String failure) throws InterruptedException {
        Await.until(failure, Duration.ofSeconds(WAIT_SECONDS), condition::getAsBoolean);
    }

    /** Writes seeded random bytes until {@code size} or {@code stop}, then half-closes. */
    private static Transfer writeSeeded(Socket socket, long size, AtomicBoolean stop) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Random random = new Random(42);
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = socket.getOutputStream();
            long written = 0;
            while (written < size && !stop.get()) {
                random.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, size - written);
                sha.update(chunk, 0, n);
                out.write(chunk, 0, n);
                written += n;
            }
            out.flush();
            socket.shutdownOutput();
            return new Transfer(written, sha.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Transfer readAll(Socket socket) {
        try (socket) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
                total += n;
            }
            return new Transfer(total, sha.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Connects the sink for a channel the initiator opens; the connection must not read before it is adopted. */
    private CompletableFuture<Channel> connectSink(String target, EventLoop loop) {
        CompletableFuture<Channel> connected = new CompletableFuture<>();
        new Bootstrap().group(loop).channel(NioSocketChannel.class).option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(sink.getLocalSocketAddress()).addListener(f -> {
                    if (f.isSuccess()) {
                        connected.complete(((io.netty.channel.ChannelFuture) f).channel());
                    } else {
                        connected.completeExceptionally(f.cause());
                    }
                });
        return connected;
    }

    /** Hands every frame on after a fixed delay, in order: the link behaves like a long network path. */
    private static final class DelayLine extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.executor().schedule(() -> ctx.fireChannelRead(msg), DELAY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Once the WebSocket handshake is done, makes the WebSocket a new session's link. */
    private final class LinkReady extends ChannelInboundHandlerAdapter {
        private final Channel ws;
        private final TunnelSession.Role role;
        private final CompletableFuture<TunnelSession> ready;

        LinkReady(Channel ws, TunnelSession.Role role, CompletableFuture<TunnelSession> ready) {
            this.ws = ws;
            this.role = role;
            this.ready = ready;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            boolean done = evt instanceof WebSocketServerProtocolHandler.HandshakeComplete
                    || evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE;
            if (!done) {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            TunnelSession session = new TunnelSession(role, new byte[16], ws.eventLoop(), config,
                    TunnelWindowTest.this::connectSink);
            ctx.pipeline().remove(this);
            TunnelLink.install(ws, session);
            session.execute(() -> session.attach(ws, 0, role == TunnelSession.Role.ACCEPTOR));
            ready.complete(session);
        }
    }
}
