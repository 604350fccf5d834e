package io.ferryhub.hub.adapter.websocket;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

/**
 * Something reachable by a WebSocket upgrade on the hub's HTTPS port: MQTT over WebSockets at
 * {@code /$iothub/websocket}, the streaming gateway at {@code /bridges/...}. The HTTPS pipeline routes an upgrade
 * request to the first endpoint whose {@link #matches} accepts the path (the request target may be in absolute
 * form; the pipeline passes the path only).
 */
public interface WebSocketEndpoint {
    boolean matches(String path);

    /**
     * Whether this endpoint takes the upgrade; by default when the path matches. Endpoints sharing a path (MQTT and
     * AMQP at {@code /$iothub/websocket}) tell their requests apart by the offered sub-protocol.
     */
    default boolean accepts(String path, FullHttpRequest request) {
        return matches(path);
    }

    /**
     * Takes over the connection: checks the request, completes (or refuses) the handshake itself and replaces the
     * HTTP handlers in the pipeline with its own. Called on the channel's event loop; must not block. The
     * endpoint owns (releases) the request.
     */
    void upgrade(ChannelHandlerContext ctx, FullHttpRequest request);
}
