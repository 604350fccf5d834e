package io.ferryhub.gateway;

import io.ferryhub.common.ipfilter.AddressGate;
import io.ferryhub.common.ipfilter.IpFilter;
import io.ferryhub.common.metrics.MetricsEndpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The streaming gateway on its own listener (host, port and certificate of its own), for deployments that put it
 * apart from the hub; the hub's stream URLs then point here and both share the token key.
 *
 * <p>Its connections pass the hub's IP filter, learnt over the revocation feed ({@link #followRevocations}): until
 * the feed first connects (or without one) no address is refused.
 */
public final class StandaloneGateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StandaloneGateway.class);
    /** An upgrade request is a few headers; anything bigger is not one. */
    private static final int MAX_REQUEST_BYTES = 16 * 1024;

    private final StreamGateway gateway;
    private final EventLoopGroup group;
    private final Channel server;
    private final byte[] tokenKey;
    private final IpFilter ipFilter;
    private final AddressGate addressGate;
    private volatile RevocationFeed revocations;

    private StandaloneGateway(StreamGateway gateway, EventLoopGroup group, Channel server, byte[] tokenKey,
                              IpFilter ipFilter, AddressGate addressGate) {
        this.gateway = gateway;
        this.ipFilter = ipFilter;
        this.addressGate = addressGate;
        this.group = group;
        this.server = server;
        this.tokenKey = tokenKey;
    }

    /**
     * Listens on {@code bind} (port 0 for an ephemeral port).
     *
     * @param tls the server certificate's context; null only for plain {@code ws://} (tests behind a TLS proxy)
     */
    public static StandaloneGateway start(InetSocketAddress bind, SslContext tls, GatewayConfig config) {
        return start(bind, tls, config, null);
    }

    /**
     * Listens on {@code bind}, refusing the tokens of streams in {@code usedTokens} (kept across restarts; null to
     * remember used tokens in memory only).
     */
    public static StandaloneGateway start(InetSocketAddress bind, SslContext tls, GatewayConfig config,
                                          UsedStreamTokens usedTokens) {
        StreamGateway gateway = new StreamGateway(config, Clock.systemUTC());
        gateway.rememberUsedTokens(usedTokens);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("streaming-gateway"),
                NioIoHandler.newFactory());
        long requestTimeout = config.handshakeTimeout().toMillis();
        IpFilter ipFilter = new IpFilter();
        AddressGate addressGate = new AddressGate(gateway.metrics(), List.of(ipFilter));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                // Netty's default too; said here like every other listener's, since relayed frames are small
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        addressGate.addTo(ch.pipeline());
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        // A connection that never completes its upgrade request is dropped.
                        ch.pipeline().addLast("request-timeout",
                                new ReadTimeoutHandler(requestTimeout, TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
                        ch.pipeline().addLast("upgrade", new UpgradeHandler(gateway));
                    }
                });
        try {
            Channel server = bootstrap.bind(bind).sync().channel();
            log.info("streaming gateway listening on {}{}", server.localAddress(), tls == null ? " (no TLS)" : "");
            return new StandaloneGateway(gateway, group, server, config.tokenKey(), ipFilter, addressGate);
        } catch (InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + bind, e);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public StreamGateway gateway() {
        return gateway;
    }

    /**
     * Serves the gateway's metrics at {@code GET /metrics} in plain HTTP on {@code bind} (its own port, opt-in:
     * see {@link MetricsEndpoint}); returns the bound port.
     */
    public int serveMetrics(InetSocketAddress bind) {
        Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new MetricsEndpoint(gateway.metrics())).bind(bind).syncUninterruptibly().channel();
        server.closeFuture().addListener(f -> listener.close());
        log.info("streaming gateway metrics on http://{}/metrics", listener.localAddress());
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Follows the revocation feed of the hub at {@code hub} ({@code https://host:port}), so that disabling,
     * deleting or re-keying an identity, or changing its stream policy, reaches the streams relayed here.
     *
     * @param tls trusts the hub's certificate
     */
    public RevocationFeed followRevocations(java.net.URI hub, SslContext tls) {
        RevocationFeed feed = new RevocationFeed(hub, tls, tokenKey, gateway, group, Clock.systemUTC(), rules -> {
            ipFilter.set(rules);
            addressGate.recheck();
        });
        revocations = feed;
        feed.start();
        return feed;
    }

    /** The IP filter in force here: the hub's, as last heard over the revocation feed. */
    public IpFilter ipFilter() {
        return ipFilter;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        RevocationFeed feed = revocations;
        if (feed != null) {
            feed.close();
        }
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Hands bridge upgrades to the gateway; anything else gets 404. */
    private static final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final StreamGateway gateway;

        UpgradeHandler(StreamGateway gateway) {
            super(false);
            this.gateway = gateway;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String uri = request.uri();
            int q = uri.indexOf('?');
            String path = q < 0 ? uri : uri.substring(0, q);
            if (gateway.matches(path) && "websocket".equalsIgnoreCase(request.headers().get(HttpHeaderNames.UPGRADE))) {
                ctx.pipeline().remove("request-timeout");
                gateway.upgrade(ctx, request);
                return;
            }
            request.release();
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.NOT_FOUND, Unpooled.copiedBuffer("not a stream endpoint\n",
                    StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            response.headers().set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("gateway connection {} failed before its upgrade: {}", ctx.channel().remoteAddress(),
                    cause.toString());
            ctx.close();
        }
    }
}
