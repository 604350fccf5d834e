package io.ferryhub.deviceproxy;

import io.ferryhub.client.mqtt.DeviceMqttClient;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.mqtt.IncomingStreamRequest;
import io.ferryhub.client.stream.StreamConnector;
import io.ferryhub.client.tunnel.TunnelAcceptor;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.client.tunnel.TunnelFrame;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.relay.QuickAck;
import io.ferryhub.common.relay.Relay;
import io.ferryhub.common.relay.RelayEnd;
import io.ferryhub.common.relay.RelaySession;
import io.ferryhub.common.sas.ConnectionString;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs on the device: answers the hub's stream requests and joins each accepted stream to the local target its
 * name is mapped to. Only mapped names are accepted; a stream is accepted only once its target accepted the TCP
 * connection, so a refusing target turns into a rejected stream rather than one that opens and dies.
 */
public final class DeviceProxy implements AutoCloseable {
    /** Tunnel sessions served at once; each carries up to {@link TunnelConfig#maxChannels()} connections. */
    public static final int MAX_TUNNEL_SESSIONS = 16;
    private static final Logger log = LoggerFactory.getLogger(DeviceProxy.class);
    private static final int TARGET_CONNECT_TIMEOUT_MILLIS = 5_000;

    private final Map<String, SocketAddress> targets;
    private final EventLoopGroup group;
    private final DeviceMqttClient hub;
    private final StreamConnector streams;
    private final AtomicInteger active = new AtomicInteger();
    private final EchoServer echo;
    private final TunnelAcceptor tunnels;

    /**
     * @param targets   stream name to local address: host and port, or a Unix domain socket
     * @param echo      also answer the stream name {@code echo} by echoing every byte back
     * @param streamTls trusts the streaming gateway's certificate (usually the hub's CA)
     */
    public DeviceProxy(ConnectionString device, HubEndpoint endpoint, Map<String, ? extends SocketAddress> targets,
                       boolean echo, SslContext streamTls) {
        this(device, endpoint, targets, echo, streamTls, TunnelConfig.defaults());
    }

    /**
     * @param tunnel limits of the tunnel sessions a service proxy opens with stream name
     *               {@value TunnelFrame#SUBPROTOCOL}: each channel of such a session is connected to the target
     *               mapped to the name it asks for, as a stream of that name would be
     */
    public DeviceProxy(ConnectionString device, HubEndpoint endpoint, Map<String, ? extends SocketAddress> targets,
                       boolean echo, SslContext streamTls, TunnelConfig tunnel) {
        this.group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("device-proxy"),
                NioIoHandler.newFactory());
        this.targets = new LinkedHashMap<>(targets);
        this.echo = echo ? EchoServer.start(group) : null;
        if (this.echo != null) {
            this.targets.put("echo", this.echo.address());
        }
        this.streams = new StreamConnector(group, streamTls, endpoint.proxy());
        this.tunnels = new TunnelAcceptor(tunnel, MAX_TUNNEL_SESSIONS, this::connectChannel);
        this.hub = new DeviceMqttClient(device, endpoint, group, this::onStreamRequest);
    }

    /** Connects to the hub; the future completes once stream requests can arrive. */
    public CompletableFuture<Void> start() {
        log.info("device proxy serving streams {}", targets.keySet());
        return hub.start();
    }

    /** Connections currently relayed: streams of their own, and channels of tunnel sessions. */
    public int activeStreams() {
        return active.get() + tunnels.channelCount();
    }

    public int tunnelSessions() {
        return tunnels.sessionCount();
    }

    /** Cuts every tunnel session's connection to the gateway, as a network failure would (fault drills, tests). */
    public void dropTunnelLinks() {
        tunnels.dropLinks();
    }

    public boolean isConnectedToHub() {
        return hub.isSubscribed();
    }

    private void onStreamRequest(IncomingStreamRequest request) {
        if (TunnelFrame.SUBPROTOCOL.equals(request.streamName())) {
            onTunnelRequest(request);
            return;
        }
        SocketAddress target = targets.get(request.streamName());
        if (target == null) {
            log.info("{} rejected: no target is mapped to '{}'", request, request.streamName());
            hub.respond(request, false);
            return;
        }
        connectTarget(target).addListener((ChannelFutureListener) connected -> {
            if (!connected.isSuccess()) {
                log.warn("{} rejected: target {} refused: {}", request, target, connected.cause().getMessage());
                hub.respond(request, false);
                return;
            }
            Channel local = connected.channel();
            if (!hub.respond(request, true)) {
                local.close();
                return;
            }
            // On the target connection's loop: the relay then hands buffers over without crossing threads.
            streams.connect(URI.create(request.url()), request.authToken(), null, local.eventLoop())
                    .whenComplete((ws, failure) -> {
                        if (failure != null) {
                            log.warn("{}: cannot open the stream: {}", request, failure.getMessage());
                            local.close();
                            return;
                        }
                        relay(request, target, local, ws);
                    });
        });
    }

    /** A tunnel session's link (new or resuming): the HELLO on it says which. */
    private void onTunnelRequest(IncomingStreamRequest request) {
        // Accepted even at the session limit: only the HELLO tells a resume (always let in) from a new session.
        if (!hub.respond(request, true)) {
            return;
        }
        streams.connect(URI.create(request.url()), request.authToken(), TunnelFrame.SUBPROTOCOL, group)
                .whenComplete((ws, failure) -> {
                    if (failure != null) {
                        log.warn("{}: cannot open the tunnel link: {}", request, failure.getMessage());
                        return;
                    }
                    tunnels.accept(ws);
                });
    }

    /** Connects a tunnel channel to the target mapped to its name, on the session's loop, not reading yet. */
    private CompletableFuture<Channel> connectChannel(String name, EventLoop loop) {
        SocketAddress target = targets.get(name);
        if (target == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("no target is mapped to '" + name
                    + "'"));
        }
        CompletableFuture<Channel> result = new CompletableFuture<>();
        targetBootstrap(loop, target)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        QuickAck.addTo(ch);
                    }
                })
                .connect(target)
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        result.complete(f.channel());
                    } else {
                        result.completeExceptionally(new IOException("target " + target + " refused: "
                                + f.cause().getMessage()));
                    }
                });
        return result;
    }

    private ChannelFuture connectTarget(SocketAddress target) {
        return targetBootstrap(group, target)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        QuickAck.addTo(ch);
                        ch.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
                    }
                })
                .connect(target);
    }

    /** A target is a TCP address (host:port) or a Unix domain socket (a path). */
    private static Bootstrap targetBootstrap(EventLoopGroup loop, SocketAddress target) {
        Bootstrap bootstrap = new Bootstrap().group(loop)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, TARGET_CONNECT_TIMEOUT_MILLIS);
        if (target instanceof UnixDomainSocketAddress) {
            return bootstrap.channel(NioDomainSocketChannel.class);
        }
        return bootstrap.channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true);
    }

    private void relay(IncomingStreamRequest request, SocketAddress target, Channel local, Channel ws) {
        active.incrementAndGet();
        RelaySession session = Relay.join("target", local, RelayEnd.TCP, "stream", ws, RelayEnd.WEBSOCKET,
                Duration.ZERO);
        log.info("{} open: relaying to {}", request, target);
        session.closed().thenAccept(reason -> {
            active.decrementAndGet();
            log.info("{} closed: {}; {} bytes to the target, {} from it, {} ms", request, reason,
                    session.bytesBtoA(), session.bytesAtoB(), session.age().toMillis());
        });
    }

    @Override
    public void close() {
        tunnels.close();
        hub.close();
        if (echo != null) {
            echo.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
