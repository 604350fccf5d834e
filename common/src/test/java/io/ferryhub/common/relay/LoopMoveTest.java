package io.ferryhub.common.relay;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real loopback connection accepted on one event loop (not reading yet, as a relay end is before it is joined)
 * is moved onto another: it must then be registered there, read and write on that loop's thread, and carry what the
 * peer sent before and after the move, intact and in order.
 */
@Timeout(30)
class LoopMoveTest {
    private EventLoopGroup group;
    private Channel server;
    private final CompletableFuture<Channel> accepted = new CompletableFuture<>();
    private final CompletableFuture<Thread> echoThread = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(io.netty.channel.ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("echo", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                echoThread.complete(Thread.currentThread());
                                ctx.writeAndFlush(msg);
                            }
                        });
                        accepted.complete(ch);
                    }
                }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
    }

    @AfterEach
    void stop() throws Exception {
        server.close().sync();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    @Test
    void aConnectionMovedToAnotherLoopRelaysThereWhatWasSentBeforeAndAfter() throws Exception {
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
            client.setSoTimeout(10_000);
            Channel ch = accepted.get(10, TimeUnit.SECONDS);
            EventLoop from = ch.eventLoop();
            EventLoop to = otherLoopThan(from);
            OutputStream out = client.getOutputStream();
            out.write("sent before the move;".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            CompletableFuture<Thread> moved = new CompletableFuture<>();
            AtomicBoolean lost = new AtomicBoolean();
            LoopMove.onto(ch, to, () -> moved.complete(Thread.currentThread()), () -> lost.set(true));
            Thread movedOn = moved.get(10, TimeUnit.SECONDS);

            assertFalse(lost.get());
            assertSame(to, ch.eventLoop());
            assertTrue(to.inEventLoop(movedOn), "the move completes on the new loop's thread");
            ch.config().setAutoRead(true);
            ch.read();
            out.write("and after.".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] expected = "sent before the move;and after.".getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(expected, client.getInputStream().readNBytes(expected.length));
            assertTrue(to.inEventLoop(echoThread.get(10, TimeUnit.SECONDS)), "read on the new loop");
            assertTrue(ch.isActive());
        }
    }

    @Test
    void aConnectionAlreadyOnTheLoopIsLeftThere() throws Exception {
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
            Channel ch = accepted.get(10, TimeUnit.SECONDS);
            EventLoop loop = ch.eventLoop();
            AtomicBoolean ran = new AtomicBoolean();
            LoopMove.onto(ch, loop, () -> ran.set(true), () -> { });
            assertTrue(ran.get(), "runs at once, without a hand-over");
            assertSame(loop, ch.eventLoop());
            assertTrue(ch.isActive());
        }
    }

    private EventLoop otherLoopThan(EventLoop loop) {
        for (int i = 0; i < 4; i++) {
            EventLoop next = group.next();
            if (next != loop) {
                return next;
            }
        }
        throw new AssertionError("a group of two loops gave the same loop four times");
    }
}
