package io.ferryhub.common.ipfilter;

import io.ferryhub.common.metrics.Metrics;
import io.ferryhub.hub.CapturedLog;
import io.ferryhub.testsupport.Await;
import io.ferryhub.testsupport.BoundClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The address gate on a real Netty listener with an echo protocol behind it (here, in the hub's tests, because
 * common's tests cannot use test-support): refused addresses are closed before a byte is read, several policies are
 * consulted, a policy change closes open connections it now refuses, refusals are counted and logged at a bounded
 * rate. 127.0.0.2 and 127.0.0.3 play other hosts than 127.0.0.1.
 */
@Timeout(60)
class AddressGateTest {
    private final Metrics metrics = new Metrics();
    private final IpFilter ipFilter = new IpFilter();
    private final Set<InetAddress> lockedOut = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final AddressGate gate = new AddressGate(metrics, List.of(ipFilter, new AddressGate.Policy() {
        @Override
        public String reason() {
            return "lockout";
        }

        @Override
        public boolean admits(InetAddress address) {
            return !lockedOut.contains(address);
        }
    }));
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    gate.addTo(ch.pipeline());
                    ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                            ctx.writeAndFlush(msg.retain());
                        }
                    });
                }
            }).bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    private final int port = ((InetSocketAddress) server.localAddress()).getPort();

    @AfterEach
    void stop() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void everyPolicyIsAskedAndTheFirstRefusalCloses() throws Exception {
        ipFilter.set(IpFilterRules.of(List.of(IpFilterRule.of("other", "Reject", "127.0.0.2"))));
        lockedOut.add(InetAddress.getByName("127.0.0.3"));
        assertRefused("127.0.0.2");
        assertRefused("127.0.0.3");
        try (Socket ok = BoundClient.plain("127.0.0.1", "127.0.0.1", port)) {
            assertEchoes(ok);
        }
        String scraped = metrics.scrape();
        assertTrue(scraped.contains("ferryhub_connections_rejected_total{reason=\"ip_filter\",when=\"connect\"} 1"),
                scraped);
        assertTrue(scraped.contains("ferryhub_connections_rejected_total{reason=\"lockout\",when=\"connect\"} 1"),
                scraped);
    }

    @Test
    void aChangedPolicyClosesTheOpenConnectionsItNowRefuses() throws Exception {
        try (Socket other = BoundClient.plain("127.0.0.2", "127.0.0.1", port);
             Socket mine = BoundClient.plain("127.0.0.1", "127.0.0.1", port)) {
            assertEchoes(other);
            assertEchoes(mine);
            Await.until("both connections are open at the gate", () -> gate.openConnections() == 2);
            assertEquals(0, gate.recheck(), "nothing refused yet");

            ipFilter.set(IpFilterRules.of(List.of(IpFilterRule.of("mine", "Accept", "127.0.0.1"),
                    IpFilterRule.of("others", "Reject", "127.0.0.0/8"))));
            assertEquals(1, gate.recheck());
            BoundClient.assertClosedByServer(other);
            assertEchoes(mine);
            Await.until("the closed connection left the gate", () -> gate.openConnections() == 1);
        }
    }

    @Test
    void refusalsAreAllCountedButLoggedAtABoundedRate() throws Exception {
        ipFilter.set(IpFilterRules.of(List.of(IpFilterRule.of("other", "Reject", "127.0.0.2"))));
        String log;
        try (CapturedLog captured = new CapturedLog()) {
            for (int i = 0; i < 20; i++) {
                assertRefused("127.0.0.2");
            }
            log = captured.text();
        }
        assertEquals(1, log.split("refused a connection from 127.0.0.2 by the ip filter", -1).length - 1, log);
        assertTrue(metrics.scrape().contains(
                "ferryhub_connections_rejected_total{reason=\"ip_filter\",when=\"connect\"} 20"));
    }

    private void assertRefused(String local) throws IOException {
        try (Socket socket = BoundClient.plain(local, "127.0.0.1", port)) {
            BoundClient.assertClosedByServer(socket);
        }
    }

    private static void assertEchoes(Socket socket) throws IOException {
        socket.getOutputStream().write("ping".getBytes());
        socket.getOutputStream().flush();
        assertEquals("ping", new String(socket.getInputStream().readNBytes(4)));
    }
}
