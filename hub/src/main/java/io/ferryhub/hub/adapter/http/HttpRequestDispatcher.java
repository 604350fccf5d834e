package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.util.List;

/**
 * The last HTTP handler of the HTTPS port: a WebSocket upgrade goes to the endpoint registered for its path, any
 * other request to the REST router. Also closes connections that stay idle and ones that sent unparseable HTTP.
 */
@ChannelHandler.Sharable
final class HttpRequestDispatcher extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(HttpRequestDispatcher.class);

    private final RestRouter router;
    private final List<WebSocketEndpoint> endpoints;

    HttpRequestDispatcher(RestRouter router, List<WebSocketEndpoint> endpoints) {
        super(false);
        this.router = router;
        this.endpoints = endpoints;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            request.release();
            RestRouter.write(ctx, HubErrorResponse.of(HubErrorCode.IotHubFormatError,
                    "Malformed HTTP request: " + request.decoderResult().cause().getMessage()), false);
            return;
        }
        if (isWebSocketUpgrade(request)) {
            String path = RequestTarget.path(request.uri());
            for (WebSocketEndpoint endpoint : endpoints) {
                if (endpoint.accepts(path, request)) {
                    endpoint.upgrade(ctx, request);
                    return;
                }
            }
            request.release();
            RestRouter.write(ctx, HubErrorResponse.of(HubErrorCode.InvalidOperation,
                    "No WebSocket endpoint is served at " + path), false);
            return;
        }
        router.dispatch(ctx, request);
    }

    private static boolean isWebSocketUpgrade(FullHttpRequest request) {
        return request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            // a connection whose caller still waits for an answer is not idle: the timeout fires again later
            if (RestRouter.requestsInFlight(ctx.channel()) == 0) {
                ctx.close();
            }
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    /** Failures a caller's bytes cause: undecodable input, a WebSocket handshake that cannot be completed. */
    private static boolean isClientError(Throwable cause) {
        return cause instanceof DecoderException || cause instanceof TooLongFrameException
                || cause instanceof CorruptedFrameException || cause instanceof WebSocketHandshakeException;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof SSLException) {
            log.debug("HTTPS connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else if (isClientError(cause)) {
            // what a caller sent wrong is no fault of the hub's: one line, no stack trace for anyone to provoke
            log.info("HTTPS connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("HTTPS connection from {} failed", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
