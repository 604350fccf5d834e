package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.adapter.websocket.ByteStreamUpgrade;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

/**
 * AMQP over WebSockets at {@code /$iothub/websocket} (and {@code /$servicebus/websocket}, where Event Hubs clients
 * reach the built-in endpoint) with sub-protocol {@code AMQPWSB10} (the Java SDK's AMQPS_WS
 * sends its request target in absolute form; the HTTPS pipeline hands over the path only). Binary frames carry the
 * AMQP byte stream into the same handler as the AMQPS listener.
 */
public final class AmqpWebSocketEndpoint implements WebSocketEndpoint {
    public static final String PATH = "/$iothub/websocket";
    /** Where Event Hubs clients open AMQP over WebSockets, for the built-in endpoint. */
    public static final String EVENT_HUBS_PATH = "/$servicebus/websocket";
    public static final String SUBPROTOCOL = "AMQPWSB10";
    private static final int MAX_FRAME_PAYLOAD = 1024 * 1024;

    private final ByteStreamUpgrade upgrade;

    public AmqpWebSocketEndpoint(AmqpEndpoint endpoint) {
        this.upgrade = new ByteStreamUpgrade(PATH, SUBPROTOCOL, MAX_FRAME_PAYLOAD,
                pipeline -> endpoint.addAmqpHandlers(pipeline, "amqp-ws"));
    }

    @Override
    public boolean matches(String path) {
        return PATH.equals(path) || EVENT_HUBS_PATH.equals(path);
    }

    /** MQTT shares the path: only requests offering AMQP's sub-protocol are AMQP's. */
    @Override
    public boolean accepts(String path, FullHttpRequest request) {
        return matches(path) && upgrade.offered(request);
    }

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        upgrade.upgrade(ctx, request);
    }
}
