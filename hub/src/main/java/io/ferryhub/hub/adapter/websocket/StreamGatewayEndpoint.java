package io.ferryhub.hub.adapter.websocket;

import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.hub.adapter.http.HttpsChannelInitializer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

/** The embedded streaming gateway on the hub's HTTPS port, at {@code /bridges/...}. */
public final class StreamGatewayEndpoint implements WebSocketEndpoint {
    private final StreamGateway gateway;

    public StreamGatewayEndpoint(StreamGateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public boolean matches(String path) {
        return gateway.matches(path);
    }

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        // A stream has its own idle rule (the gateway's); the HTTPS keep-alive timeout must not cut it.
        if (ctx.pipeline().get(HttpsChannelInitializer.IDLE) != null) {
            ctx.pipeline().remove(HttpsChannelInitializer.IDLE);
        }
        gateway.upgrade(ctx, request);
    }
}
