package io.ferryhub.hub.adapter.websocket;

import io.ferryhub.common.websocket.WebSocketBinaryStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The WebSocket upgrade of a byte-stream protocol (MQTT, AMQP) on the HTTPS port: completes the handshake with the
 * protocol's sub-protocol, then replaces every HTTP-level handler behind the WebSocket decoder with a
 * {@link WebSocketBinaryStream} and the protocol's own handlers, so the protocol sees the same bytes it would on its
 * TLS listener.
 */
public final class ByteStreamUpgrade {
    private static final Logger log = LoggerFactory.getLogger(ByteStreamUpgrade.class);
    /** The handler the WebSocket handshake leaves at the end of the transport part of the pipeline. */
    private static final String WEBSOCKET_DECODER = "wsdecoder";

    private final String path;
    private final String subprotocol;
    private final int maxFramePayload;
    private final Consumer<ChannelPipeline> protocolHandlers;

    /**
     * @param protocolHandlers adds the protocol's handlers at the end of a pipeline that already turns WebSocket
     *                         frames into bytes
     */
    public ByteStreamUpgrade(String path, String subprotocol, int maxFramePayload,
                             Consumer<ChannelPipeline> protocolHandlers) {
        this.path = path;
        this.subprotocol = subprotocol;
        this.maxFramePayload = maxFramePayload;
        this.protocolHandlers = protocolHandlers;
    }

    /** Whether the request offers this protocol's sub-protocol (the header may list several). */
    public boolean offered(FullHttpRequest request) {
        String offered = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (offered == null) {
            return false;
        }
        for (String protocol : offered.split(",")) {
            if (protocol.trim().equalsIgnoreCase(subprotocol)) {
                return true;
            }
        }
        return false;
    }

    /** Completes the handshake and switches the pipeline over; refuses with 400 when the sub-protocol is missing. */
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            if (!offered(request)) {
                refuse(ctx, "the WebSocket sub-protocol '" + subprotocol + "' is required on " + path);
                return;
            }
            String url = "wss://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + path;
            WebSocketServerHandshaker handshaker =
                    new WebSocketServerHandshakerFactory(url, subprotocol, false, maxFramePayload)
                            .newHandshaker(request);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            ChannelPipeline pipeline = ctx.pipeline();
            ChannelFuture handshake;
            try {
                handshake = handshaker.handshake(ctx.channel(), request);
            } catch (WebSocketHandshakeException e) {
                // a request the handshake cannot answer (no key, ...): the client's mistake, told in one line
                refuse(ctx, "malformed WebSocket upgrade: " + e.getMessage());
                return;
            }
            handshake.addListener((ChannelFutureListener) done -> {
                if (done.isSuccess()) {
                    switchOver(pipeline);
                } else {
                    log.info("{} over WebSocket: handshake with {} failed: {}", subprotocol,
                            ctx.channel().remoteAddress(), String.valueOf(done.cause()));
                    done.channel().close();
                }
            });
        } finally {
            request.release();
        }
    }

    private void switchOver(ChannelPipeline pipeline) {
        List<String> httpHandlers = new ArrayList<>();
        boolean behindDecoder = false;
        for (Map.Entry<String, ChannelHandler> entry : pipeline) {
            if (behindDecoder) {
                httpHandlers.add(entry.getKey());
            } else if (entry.getKey().equals(WEBSOCKET_DECODER)) {
                behindDecoder = true;
            }
        }
        if (!behindDecoder) {
            log.error("{} over WebSocket: no WebSocket decoder in the pipeline; closing", subprotocol);
            pipeline.close();
            return;
        }
        httpHandlers.forEach(pipeline::remove);
        pipeline.addLast("wsBytes", new WebSocketBinaryStream());
        protocolHandlers.accept(pipeline);
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        log.info("{} over WebSocket refused for {}: {}", subprotocol, ctx.channel().remoteAddress(), reason);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                Unpooled.copiedBuffer(reason, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
