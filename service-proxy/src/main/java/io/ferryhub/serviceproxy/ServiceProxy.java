package io.ferryhub.serviceproxy;

import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.client.stream.ServiceStreamClient;
import io.ferryhub.client.stream.StreamConnector;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.relay.Relay;
import io.ferryhub.common.relay.RelayEnd;
import io.ferryhub.common.relay.RelaySession;
import io.ferryhub.common.sas.ConnectionString;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs on the operator's machine: listens on a local port and gives every accepted TCP connection a device stream
 * of its own, so an ssh session, an scp beside it and an RDP client's several connections all work at once.
 */
public final class ServiceProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServiceProxy.class);

    /** Which device stream each local connection opens. {@code moduleId} null for a device. */
    public record Target(String deviceId, String moduleId, String streamName, Duration connectTimeout,
                         Duration responseTimeout) {
        String describe() {
            return "'" + streamName + "' of " + deviceId + (moduleId == null ? "" : "/" + moduleId);
        }
    }

    private final EventLoopGroup group;
    private final HubHttpClient http;
    private final ServiceStreamClient initiator;
    private final StreamConnector streams;
    private final Target target;
    private final Channel server;
    private final AtomicInteger active = new AtomicInteger();

    /**
     * @param hub    the hub's HTTPS base URL, e.g. {@code https://myhub.example:443}
     * @param tls    trusts the hub's (and its streaming gateway's) certificate
     * @param listen where local clients connect, e.g. 127.0.0.1:2222 (port 0 for any free one)
     */
    public ServiceProxy(ConnectionString service, URI hub, SslContext tls, Target target, InetSocketAddress listen) {
        this.group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("service-proxy"),
                NioIoHandler.newFactory());
        this.target = target;
        try {
            this.http = new HubHttpClient(hub, tls, group);
            this.initiator = new ServiceStreamClient(http, service);
            this.streams = new StreamConnector(group, tls);
            this.server = new ServerBootstrap().group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast("open-stream", new OpenStreamOnConnect());
                            ch.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
                        }
                    })
                    .bind(listen).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        log.info("service proxy listening on {}: each connection opens stream {}", server.localAddress(),
                target.describe());
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Streams currently relayed. */
    public int activeStreams() {
        return active.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        http.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void open(Channel local) {
        initiator.initiate(target.deviceId(), target.moduleId(), target.streamName(), target.connectTimeout(),
                target.responseTimeout()).whenComplete((initiation, failure) -> {
            if (failure != null) {
                log.warn("connection from {}: stream {} failed: {}", local.remoteAddress(), target.describe(),
                        rootMessage(failure));
                local.close();
            } else if (!initiation.accepted()) {
                log.warn("connection from {}: the device rejected stream {}", local.remoteAddress(),
                        target.describe());
                local.close();
            } else {
                streams.connect(initiation.url(), initiation.authToken()).whenComplete((ws, wsFailure) -> {
                    if (wsFailure != null) {
                        log.warn("connection from {}: cannot open stream {}: {}", local.remoteAddress(),
                                target.describe(), rootMessage(wsFailure));
                        local.close();
                        return;
                    }
                    relay(local, ws);
                });
            }
        });
    }

    private void relay(Channel local, Channel ws) {
        active.incrementAndGet();
        RelaySession session = Relay.join("client", local, RelayEnd.TCP, "stream", ws, RelayEnd.WEBSOCKET,
                Duration.ZERO);
        log.info("connection from {}: stream {} open", local.remoteAddress(), target.describe());
        session.closed().thenAccept(reason -> {
            active.decrementAndGet();
            log.info("connection from {}: stream {} closed: {}; {} bytes sent, {} received, {} ms",
                    local.remoteAddress(), target.describe(), reason, session.bytesAtoB(), session.bytesBtoA(),
                    session.age().toMillis());
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t instanceof CompletionException) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    /** Starts the stream as soon as a local client connects; what the client sends meanwhile is held. */
    private final class OpenStreamOnConnect extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.pipeline().remove(this);
            open(ctx.channel());
            ctx.fireChannelActive();
        }
    }
}
