package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.adapter.websocket.ByteStreamUpgrade;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

/**
 * MQTT over WebSockets at {@code /$iothub/websocket} on the HTTPS port, for devices behind port-443-only firewalls.
 * The client must offer the {@code mqtt} sub-protocol, which is echoed; binary frames then carry the MQTT byte
 * stream into the same MQTT handlers as the TLS listener. It takes every upgrade on the path that AMQP does not, so
 * a client offering neither sub-protocol gets a 400 naming the one required.
 */
public final class MqttWebSocketEndpoint implements WebSocketEndpoint {
    public static final String PATH = "/$iothub/websocket";
    private static final String SUBPROTOCOL = "mqtt";

    private final ByteStreamUpgrade upgrade;

    public MqttWebSocketEndpoint(MqttDeviceEndpoint endpoint) {
        this.upgrade = new ByteStreamUpgrade(PATH, SUBPROTOCOL, endpoint.settings().maxPacketBytes(),
                pipeline -> endpoint.addMqttHandlers(pipeline, "mqtt-ws"));
    }

    @Override
    public boolean matches(String path) {
        return PATH.equals(path);
    }

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        upgrade.upgrade(ctx, request);
    }
}
