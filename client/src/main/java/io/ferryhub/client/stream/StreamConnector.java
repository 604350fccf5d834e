package io.ferryhub.client.stream;

import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.websocket.FinalClose;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.CompletableFuture;

/**
 * Opens one end of a device stream: a WebSocket to the stream URL the hub handed out, with
 * {@code Authorization: Bearer {token}} and (for IoT Hub's streams) no sub-protocol. The channel it yields holds
 * (does not lose) what arrives until it is joined to its local TCP connection with
 * {@link io.ferryhub.common.relay.Relay} or taken over by a tunnel session.
 */
public final class StreamConnector {
    /** Frames from the gateway are at most this big (our own ends send at most one TCP read per frame). */
    private static final int MAX_FRAME = 256 * 1024;
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    /** The header in which a FerryHub gateway says why it refused a connection. */
    public static final String REASON_HEADER = "ferryhub-reason";

    private final EventLoopGroup group;
    private final SslContext tls;
    private final HttpConnectProxy proxy;

    /** @param tls trusts the gateway's certificate; null only for {@code ws://} URLs */
    public StreamConnector(EventLoopGroup group, SslContext tls) {
        this(group, tls, null);
    }

    /** @param proxy the HTTP proxy the connections go through; null for direct */
    public StreamConnector(EventLoopGroup group, SslContext tls, HttpConnectProxy proxy) {
        this.group = group;
        this.tls = tls;
        this.proxy = proxy;
    }

    /** Fails with an {@link IOException} naming the cause (refused connection, HTTP status of a refused upgrade). */
    public CompletableFuture<Channel> connect(URI url, String bearerToken) {
        return connect(url, bearerToken, null, group);
    }

    /**
     * Like {@link #connect(URI, String)}, offering a WebSocket sub-protocol (the gateway must select it, or the
     * connection fails), on a chosen event loop.
     */
    public CompletableFuture<Channel> connect(URI url, String bearerToken, String subprotocol,
                                              EventLoopGroup loop) {
        boolean secure = "wss".equalsIgnoreCase(url.getScheme());
        if (!secure && !"ws".equalsIgnoreCase(url.getScheme())) {
            return CompletableFuture.failedFuture(new IOException("not a WebSocket URL: " + url));
        }
        if (secure && tls == null) {
            return CompletableFuture.failedFuture(new IOException("no TLS context for " + url));
        }
        String host = url.getHost();
        int port = url.getPort() > 0 ? url.getPort() : (secure ? 443 : 80);
        CompletableFuture<Channel> result = new CompletableFuture<>();
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + bearerToken);
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(url)
                .version(WebSocketVersion.V13)
                .subprotocol(subprotocol)
                .customHeaders(headers)
                .maxFramePayloadLength(MAX_FRAME)
                .handshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS)
                .dropPongFrames(true)
                .handleCloseFrames(true)
                .build();
        Bootstrap bootstrap = new Bootstrap().group(loop)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (proxy != null) {
                            ch.pipeline().addLast("proxy", proxy.newHandler());
                        }
                        if (secure) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(16 * 1024));
                        // sees the gateway's close frame before the protocol handler answers and consumes it
                        ch.pipeline().addLast(FinalClose.Watcher.NAME, new FinalClose.Watcher());
                        ch.pipeline().addLast("websocket", secure
                                ? new WebSocketClientProtocolHandler(new ZeroMaskHandshaker(url, subprotocol,
                                headers, MAX_FRAME), config)
                                : new WebSocketClientProtocolHandler(config));
                        ch.pipeline().addLast("handshake-outcome", new HandshakeOutcome(result));
                        ch.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
                    }
                });
        HttpConnectProxy.connect(bootstrap, proxy, host, port)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        result.completeExceptionally(new IOException("cannot connect to the stream gateway "
                                + host + ":" + port + ": " + f.cause().getMessage(), f.cause()));
                    }
                });
        return result;
    }

    /** The gateway answered the upgrade with an HTTP status other than 101. */
    public static final class UpgradeRefused extends IOException {
        private final int status;

        UpgradeRefused(int status, String message, Throwable cause) {
            super(message, cause);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** Completes the connect future with the handshake's outcome, then steps aside. */
    private static final class HandshakeOutcome extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<Channel> result;

        HandshakeOutcome(CompletableFuture<Channel> result) {
            this.result = result;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                ctx.pipeline().remove(this);
                result.complete(ctx.channel());
            } else if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
                result.completeExceptionally(new IOException("the stream gateway did not complete the handshake"));
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof WebSocketClientHandshakeException refused && refused.response() != null) {
                result.completeExceptionally(new UpgradeRefused(refused.response().status().code(),
                        "the stream gateway refused the connection: " + refused.response().status()
                                + reasonOf(refused.response()), cause));
                ctx.close();
                return;
            }
            String reason = cause instanceof WebSocketClientHandshakeException refused
                    ? "the stream gateway refused the connection: " + refused.response().status()
                    : "stream connection failed: " + cause.getMessage();
            result.completeExceptionally(new IOException(reason, cause));
            ctx.close();
        }

        /**
         * Why the gateway refused (e.g. which stream limit), from its {@value #REASON_HEADER} header: the refusal's
         * body does not reach us (the handshake exception keeps the status line and headers only).
         */
        private static String reasonOf(HttpResponse response) {
            String reason = response.headers().get(REASON_HEADER);
            return reason == null || reason.isBlank() ? "" : ": " + reason;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IOException("the stream gateway closed the connection"));
            ctx.fireChannelInactive();
        }
    }
}
