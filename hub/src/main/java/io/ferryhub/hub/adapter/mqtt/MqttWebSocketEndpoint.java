package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.buffer.Unpooled;
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
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * MQTT over WebSockets at {@code /$iothub/websocket} on the HTTPS port, for devices behind port-443-only firewalls.
 * The client must offer the {@code mqtt} sub-protocol, which is echoed; binary frames then carry the MQTT byte
 * stream into the same MQTT handlers as the TLS listener.
 */
public final class MqttWebSocketEndpoint implements WebSocketEndpoint {
    public static final String PATH = "/$iothub/websocket";
    private static final Logger log = LoggerFactory.getLogger(MqttWebSocketEndpoint.class);
    private static final String SUBPROTOCOL = "mqtt";
    /** The handler the WebSocket handshake leaves at the end of the transport part of the pipeline. */
    private static final String WEBSOCKET_DECODER = "wsdecoder";

    private final MqttDeviceEndpoint endpoint;
    private final int maxFramePayload;

    public MqttWebSocketEndpoint(MqttDeviceEndpoint endpoint) {
        this.endpoint = endpoint;
        this.maxFramePayload = endpoint.settings().maxPacketBytes();
    }

    @Override
    public boolean matches(String path) {
        return PATH.equals(path);
    }

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            if (!offersMqtt(request)) {
                refuse(ctx, "the WebSocket sub-protocol '" + SUBPROTOCOL + "' is required on " + PATH);
                return;
            }
            String url = "wss://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + PATH;
            WebSocketServerHandshaker handshaker =
                    new WebSocketServerHandshakerFactory(url, SUBPROTOCOL, false, maxFramePayload)
                            .newHandshaker(request);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            ChannelPipeline pipeline = ctx.pipeline();
            handshaker.handshake(ctx.channel(), request).addListener((ChannelFutureListener) done -> {
                if (done.isSuccess()) {
                    switchToMqtt(pipeline);
                } else {
                    log.info("MQTT over WebSocket handshake with {} failed: {}", ctx.channel().remoteAddress(),
                            String.valueOf(done.cause()));
                    done.channel().close();
                }
            });
        } finally {
            request.release();
        }
    }

    /** Replaces every HTTP-level handler behind the WebSocket codec with the MQTT handlers. */
    private void switchToMqtt(ChannelPipeline pipeline) {
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
            log.error("MQTT over WebSocket: no WebSocket decoder in the pipeline; closing");
            pipeline.close();
            return;
        }
        httpHandlers.forEach(pipeline::remove);
        pipeline.addLast("wsBytes", new WebSocketBinaryStream());
        endpoint.addMqttHandlers(pipeline, "mqtt-ws");
    }

    private static boolean offersMqtt(FullHttpRequest request) {
        String offered = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (offered == null) {
            return false;
        }
        for (String protocol : offered.split(",")) {
            if (protocol.trim().equalsIgnoreCase(SUBPROTOCOL)) {
                return true;
            }
        }
        return false;
    }

    private static void refuse(ChannelHandlerContext ctx, String reason) {
        log.info("MQTT over WebSocket refused for {}: {}", ctx.channel().remoteAddress(), reason);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
                Unpooled.copiedBuffer(reason, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
