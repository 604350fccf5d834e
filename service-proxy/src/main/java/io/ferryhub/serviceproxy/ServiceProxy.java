package io.ferryhub.serviceproxy;

import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.client.stream.ServiceStreamClient;
import io.ferryhub.client.stream.StreamConnector;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.client.tunnel.TunnelDialer;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.relay.QuickAck;
import io.ferryhub.common.relay.Relay;
import io.ferryhub.common.relay.RelayEnd;
import io.ferryhub.common.relay.RelaySession;
import io.ferryhub.common.sas.ConnectionString;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
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

    /** How local connections reach the device. */
    public enum Mode {
        /** One IoT Hub device stream per connection (every connection costs a stream negotiation). */
        STREAM_PER_CONNECTION,
        /**
         * Connections share one multiplexed, resumable tunnel session when the device proxy and the gateway speak
         * {@code ferryhub.tunnel.v1}; otherwise one stream per connection.
         */
        TUNNEL
    }

    private final EventLoopGroup group;
    private final Mode mode;
    private final TunnelSessions tunnels;
    private final HubHttpClient http;
    private final ServiceStreamClient initiator;
    private final StreamConnector streams;
    private final Target target;
    private final Channel server;
    private final AtomicInteger active = new AtomicInteger();
    private final URI hub;
    /** Why the last local connection got no stream, for a caller that only sees it closed (the echo probe). */
    private volatile String lastFailure;

    /** The local address to listen on is taken (or not ours): the proxy cannot run. */
    public static final class CannotListen extends RuntimeException {
        CannotListen(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param hub    the hub's HTTPS base URL, e.g. {@code https://myhub.example:443}
     * @param tls    trusts the hub's (and its streaming gateway's) certificate
     * @param listen where local clients connect, e.g. 127.0.0.1:2222 (port 0 for any free one)
     */
    public ServiceProxy(ConnectionString service, URI hub, SslContext tls, Target target, InetSocketAddress listen) {
        this(service, hub, tls, target, listen, Mode.STREAM_PER_CONNECTION, TunnelConfig.defaults());
    }

    public ServiceProxy(ConnectionString service, URI hub, SslContext tls, Target target, InetSocketAddress listen,
                        Mode mode, TunnelConfig tunnel) {
        this.mode = mode;
        this.group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("service-proxy"),
                NioIoHandler.newFactory());
        this.target = target;
        this.hub = hub;
        try {
            this.http = new HubHttpClient(hub, tls, group);
            this.initiator = new ServiceStreamClient(http, service);
            this.streams = new StreamConnector(group, tls);
            this.tunnels = new TunnelSessions(new TunnelDialer(initiator, streams, group, target.deviceId(),
                    target.moduleId(), target.connectTimeout(), target.responseTimeout(), tunnel));
            ChannelFuture bound = new ServerBootstrap().group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            QuickAck.addTo(ch);
                            if (mode == Mode.TUNNEL) {
                                // Not read until the tunnel channel is open: the session's credit decides.
                                ch.config().setAutoRead(false);
                                ch.pipeline().addLast("open-channel", new OpenChannelOnConnect());
                            } else {
                                ch.pipeline().addLast("open-stream", new OpenStreamOnConnect());
                                ch.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
                            }
                        }
                    })
                    .bind(listen).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                // checked (BindException) but thrown unchecked by Netty: turned into what callers can catch
                throw new CannotListen("cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": "
                        + bound.cause().getMessage(), bound.cause());
            }
            this.server = bound.channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        log.info("service proxy listening on {}: {}", server.localAddress(), mode == Mode.TUNNEL
                ? "connections share a tunnel session to " + target.describe()
                : "each connection opens stream " + target.describe());
    }

    /** Why the last local connection got no stream (null if none failed), said in the proxy's terms. */
    public String lastFailure() {
        return lastFailure;
    }

    private void failed(Channel local, String what, Throwable failure) {
        String why = failure == null ? what : what + ": " + HubFailures.explain(failure, hub);
        lastFailure = why;
        log.warn("connection from {}: {}", local.remoteAddress(), why);
        local.close();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Connections currently relayed: streams of their own, and channels of the tunnel session. */
    public int activeStreams() {
        return active.get() + tunnels.channelCount();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        tunnels.close();
        http.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void open(Channel local) {
        initiator.initiate(target.deviceId(), target.moduleId(), target.streamName(), target.connectTimeout(),
                target.responseTimeout()).whenComplete((initiation, failure) -> {
            if (failure != null) {
                failed(local, "stream " + target.describe() + " failed", failure);
            } else if (!initiation.accepted()) {
                failed(local, "the device rejected stream " + target.describe(), null);
            } else {
                // On the local connection's loop: the relay then hands buffers over without crossing threads.
                streams.connect(initiation.url(), initiation.authToken(), null, local.eventLoop())
                        .whenComplete((ws, wsFailure) -> {
                            if (wsFailure != null) {
                                failed(local, "cannot open stream " + target.describe(), wsFailure);
                                return;
                            }
                            relay(local, ws);
                        });
            }
        });
    }

    private void openChannel(Channel local) {
        tunnels.session().whenComplete((session, failure) -> {
            if (failure == null) {
                session.openChannel(local, target.streamName());
            } else if (TunnelSessions.unwrap(failure) instanceof TunnelDialer.TunnelUnsupported) {
                local.eventLoop().execute(() -> {
                    local.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
                    local.config().setAutoRead(true);
                    open(local);
                });
            } else {
                failed(local, "no tunnel session to " + target.describe(), failure);
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

    /** Opens a tunnel channel as soon as a local client connects; the client is not read until it is open. */
    private final class OpenChannelOnConnect extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.pipeline().remove(this);
            openChannel(ctx.channel());
            ctx.fireChannelActive();
        }
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
