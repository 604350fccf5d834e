package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.adapter.mqtt.WebSocketBinaryStream;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AMQP over WebSockets at {@code /$iothub/websocket} with sub-protocol {@code AMQPWSB10} (the Java SDK's AMQPS_WS
 * sends its request target in absolute form; the HTTPS pipeline hands over the path only). Binary frames carry the
 * AMQP byte stream into the same handler as the AMQPS listener.
 */
public final class AmqpWebSocketEndpoint implements WebSocketEndpoint {
    public static final String PATH = "/$iothub/websocket";
    public static final String SUBPROTOCOL = "AMQPWSB10";
    private static final Logger log = LoggerFactory.getLogger(AmqpWebSocketEndpoint.class);
    private static final String WEBSOCKET_DECODER = "wsdecoder";
    private static final int MAX_FRAME_PAYLOAD = 1024 * 1024;

    private final AmqpEndpoint endpoint;

    public AmqpWebSocketEndpoint(AmqpEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public boolean matches(String path) {
        return PATH.equals(path);
    }

    @Override
    public boolean accepts(String path, FullHttpRequest request) {
        if (!matches(path)) {
            return false;
        }
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

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            String url = "wss://" + request.headers().get(HttpHeaderNames.HOST, "localhost") + PATH;
            WebSocketServerHandshaker handshaker =
                    new WebSocketServerHandshakerFactory(url, SUBPROTOCOL, false, MAX_FRAME_PAYLOAD)
                            .newHandshaker(request);
            if (handshaker == null) {
                WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
                return;
            }
            ChannelPipeline pipeline = ctx.pipeline();
            handshaker.handshake(ctx.channel(), request).addListener((ChannelFutureListener) done -> {
                if (done.isSuccess()) {
                    switchToAmqp(pipeline);
                } else {
                    log.info("AMQP over WebSocket handshake with {} failed: {}", ctx.channel().remoteAddress(),
                            String.valueOf(done.cause()));
                    done.channel().close();
                }
            });
        } finally {
            request.release();
        }
    }

    /** Replaces every HTTP-level handler behind the WebSocket decoder with the AMQP handler. */
    private void switchToAmqp(ChannelPipeline pipeline) {
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
            log.error("AMQP over WebSocket: no WebSocket decoder in the pipeline; closing");
            pipeline.close();
            return;
        }
        httpHandlers.forEach(pipeline::remove);
        pipeline.addLast("wsBytes", new WebSocketBinaryStream());
        endpoint.addAmqpHandlers(pipeline, "amqp-ws");
    }
}
