package io.ferryhub.e2e;

import io.ferryhub.common.relay.Relay;
import io.ferryhub.common.relay.RelayEnd;
import io.netty.bootstrap.Bootstrap;
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
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP CONNECT proxy for tests, as a corporate one behaves: basic authentication (407 without it), then
 * bytes relayed both ways; optionally only to some ports (403 for the others, as a proxy that lets only HTTPS out).
 * It counts tunnels per target port and can cut every connection, as a network failure. A port can be made a black
 * hole: a CONNECT to it is taken and never answered, as behind a firewall that silently drops its packets.
 */
final class ConnectProxy implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ChannelGroup open = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final String expectedAuthorization;
    private final Set<Integer> allowedPorts;
    private final Channel server;
    final Map<Integer, AtomicInteger> tunnelsByPort = new ConcurrentHashMap<>();
    final AtomicInteger refused = new AtomicInteger();
    final Map<Integer, AtomicInteger> forbiddenByPort = new ConcurrentHashMap<>();
    private final Set<Integer> blackHoles = ConcurrentHashMap.newKeySet();
    private final Map<Integer, AtomicInteger> swallowedByPort = new ConcurrentHashMap<>();

    ConnectProxy(String user, String password) {
        this(user, password, Set.of());
    }

    /** @param allowedPorts the only ports CONNECT may reach; empty for any */
    ConnectProxy(String user, String password, Set<Integer> allowedPorts) {
        this.allowedPorts = Set.copyOf(allowedPorts);
        expectedAuthorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        server = new ServerBootstrap().group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        open.add(ch);
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregate", new HttpObjectAggregator(8192));
                        ch.pipeline().addLast("connect", new ConnectHandler());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    int tunnelsTo(int port) {
        return tunnelsByPort.getOrDefault(port, new AtomicInteger()).get();
    }

    int forbiddenTo(int port) {
        return forbiddenByPort.getOrDefault(port, new AtomicInteger()).get();
    }

    /** From now on, CONNECTs to {@code port} are never answered. */
    void blackHole(int port) {
        blackHoles.add(port);
    }

    /** CONNECTs to {@code port} left unanswered so far. */
    int swallowedTo(int port) {
        return swallowedByPort.getOrDefault(port, new AtomicInteger()).get();
    }

    /** Cuts every connection through the proxy at once. */
    void cutAll() {
        open.close().awaitUninterruptibly();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        open.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class ConnectHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.method() != HttpMethod.CONNECT) {
                answer(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, true);
                return;
            }
            if (!expectedAuthorization.equals(request.headers().get(HttpHeaderNames.PROXY_AUTHORIZATION))) {
                refused.incrementAndGet();
                DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.PROXY_AUTHENTICATION_REQUIRED, Unpooled.EMPTY_BUFFER);
                response.headers().set(HttpHeaderNames.PROXY_AUTHENTICATE, "Basic realm=\"test\"");
                response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
                response.headers().set(HttpHeaderNames.CONNECTION, "close");
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            String target = request.uri();
            int colon = target.lastIndexOf(':');
            String host = target.substring(0, colon);
            int port = Integer.parseInt(target.substring(colon + 1));
            if (blackHoles.contains(port)) {
                swallowedByPort.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                return;
            }
            if (!allowedPorts.isEmpty() && !allowedPorts.contains(port)) {
                forbiddenByPort.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                answer(ctx, HttpResponseStatus.FORBIDDEN, true);
                return;
            }
            Channel client = ctx.channel();
            client.config().setAutoRead(false);
            new Bootstrap().group(client.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            open.add(ch);
                        }
                    })
                    .connect(host, port).addListener((ChannelFutureListener) connected -> {
                        if (!connected.isSuccess()) {
                            answer(ctx, HttpResponseStatus.BAD_GATEWAY, true);
                            return;
                        }
                        tunnelsByPort.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                        ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                new HttpResponseStatus(200, "Connection established")))
                                .addListener((ChannelFutureListener) sent -> {
                                    client.pipeline().remove("connect");
                                    client.pipeline().remove("aggregate");
                                    client.pipeline().remove("http");
                                    Relay.join("client", client, RelayEnd.TCP, "target", connected.channel(),
                                            RelayEnd.TCP, Duration.ZERO);
                                });
                    });
        }

        private void answer(ChannelHandlerContext ctx, HttpResponseStatus status, boolean close) {
            DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.EMPTY_BUFFER);
            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            ctx.writeAndFlush(response).addListener(close ? ChannelFutureListener.CLOSE
                    : ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }
}
