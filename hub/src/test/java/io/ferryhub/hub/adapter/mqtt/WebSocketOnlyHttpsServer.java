package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;

import java.net.InetSocketAddress;
import java.net.URI;

/**
 * An HTTPS port that only routes WebSocket upgrades to one endpoint, the way the hub's HTTPS pipeline does (path
 * taken from origin- or absolute-form targets), so the MQTT WebSocket endpoint is tested on a real socket.
 */
final class WebSocketOnlyHttpsServer {
    private WebSocketOnlyHttpsServer() {
    }

    static Channel bind(EventLoopGroup acceptors, EventLoopGroup workers, SslContext tls, WebSocketEndpoint endpoint)
            throws InterruptedException {
        return new ServerBootstrap().group(acceptors, workers).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc()), new HttpServerCodec(),
                                new HttpObjectAggregator(65536), new UpgradeRouter(endpoint));
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private static final class UpgradeRouter extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final WebSocketEndpoint endpoint;

        UpgradeRouter(WebSocketEndpoint endpoint) {
            super(false);
            this.endpoint = endpoint;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = URI.create(request.uri()).getRawPath();
            if (endpoint.matches(path)) {
                endpoint.upgrade(ctx, request);
            } else {
                request.release();
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
