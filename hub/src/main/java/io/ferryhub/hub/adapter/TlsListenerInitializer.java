package io.ferryhub.hub.adapter;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;

import java.util.function.Consumer;

/**
 * A connection to one of the hub's TLS ports for a byte-stream protocol (MQTTS 8883, AMQPS 5671): TLS with the hub's
 * server certificate, then the protocol's own handlers, the same ones its WebSocket transport ends in.
 */
public final class TlsListenerInitializer extends ChannelInitializer<SocketChannel> {
    private final SslContext serverTls;
    private final Consumer<ChannelPipeline> protocolHandlers;

    public TlsListenerInitializer(SslContext serverTls, Consumer<ChannelPipeline> protocolHandlers) {
        this.serverTls = serverTls;
        this.protocolHandlers = protocolHandlers;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        channel.pipeline().addLast("tls", serverTls.newHandler(channel.alloc()));
        protocolHandlers.accept(channel.pipeline());
    }
}
