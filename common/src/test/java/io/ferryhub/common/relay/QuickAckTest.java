package io.ferryhub.common.relay;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real loopback connection whose Netty end answers every message at once: the exchange pattern that makes Linux
 * switch a socket to delayed acknowledgements ("ping-pong" mode, which {@code getsockopt(TCP_QUICKACK)} reports as
 * off). With {@link QuickAck} first in its pipeline the socket must be back in quick-acknowledgement mode after
 * each read; without it (the control) the same exchanges leave it delaying them.
 */
class QuickAckTest {
    private static final int EXCHANGES = 8;
    private EventLoopGroup group;
    private Channel server;
    private final CompletableFuture<Channel> accepted = new CompletableFuture<>();

    @BeforeEach
    void start() {
        // the suite runs on Linux, the hub's platform; the option exists there
        assertTrue(QuickAck.supported(), "TCP_QUICKACK is not available to this JVM");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).sync();
    }

    @Test
    void aSocketThatAnswersAtOnceStaysInQuickAckModeWithTheHandler() throws Exception {
        assertEquals(Boolean.TRUE, quickAckAfterExchanges(true));
    }

    @Test
    void withoutTheHandlerTheSameExchangesLeaveItDelayingAcks() throws Exception {
        // the control: the exchanges do turn delayed acknowledgements on, so the test above can fail
        assertEquals(Boolean.FALSE, quickAckAfterExchanges(false));
    }

    private Boolean quickAckAfterExchanges(boolean withHandler) throws Exception {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (withHandler) {
                            QuickAck.addTo(ch);
                        }
                        ch.pipeline().addLast("echo", new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg);
                            }
                        });
                        accepted.complete(ch);
                    }
                }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
            client.setTcpNoDelay(true);
            client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            for (int i = 0; i < EXCHANGES; i++) {
                byte[] message = ("message " + i).getBytes(StandardCharsets.US_ASCII);
                out.write(message);
                out.flush();
                assertArrayEquals(message, in.readNBytes(message.length));
            }
            Channel ch = accepted.get(30, TimeUnit.SECONDS);
            if (withHandler) {
                assertSame(ch.pipeline().get(QuickAck.NAME), ch.pipeline().first());
            }
            // on the channel's loop, so after the last read's readComplete
            return ch.eventLoop().submit(() -> ch.config().getOption(
                    NioChannelOption.of(ExtendedSocketOptions.TCP_QUICKACK))).get(30, TimeUnit.SECONDS);
        }
    }
}
