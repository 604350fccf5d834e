package io.ferryhub.common.metrics;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;

import java.nio.charset.StandardCharsets;

/**
 * A plain HTTP listener's pipeline serving {@code GET /metrics} (anything else is 404, other methods 405). Plain
 * HTTP on its own opt-in port: what Prometheus scrapes without credentials that expire, kept off the ports devices
 * and back-ends use. The metrics name no device and hold no secret.
 */
public final class MetricsEndpoint extends ChannelInitializer<SocketChannel> {
    private final Metrics metrics;

    public MetricsEndpoint(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast(new ReadTimeoutHandler(60))
                .addLast(new HttpServerCodec())
                .addLast(new HttpObjectAggregator(8192))
                .addLast(new Handler(metrics));
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Metrics metrics;

        Handler(Metrics metrics) {
            this.metrics = metrics;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            String path = request.uri();
            int query = path.indexOf('?');
            path = query < 0 ? path : path.substring(0, query);
            FullHttpResponse response;
            if (!path.equals("/metrics")) {
                response = text(HttpResponseStatus.NOT_FOUND, "only /metrics is served here\n", "text/plain");
            } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET /metrics\n", "text/plain");
            } else {
                response = text(HttpResponseStatus.OK, metrics.scrape(), Metrics.CONTENT_TYPE);
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            HttpUtil.setKeepAlive(response, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private static FullHttpResponse text(HttpResponseStatus status, String body, String type) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            return r;
        }
    }
}
