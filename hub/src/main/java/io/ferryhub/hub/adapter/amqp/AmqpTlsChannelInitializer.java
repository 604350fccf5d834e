package io.ferryhub.hub.adapter.amqp;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;

/** A connection to the AMQPS port (IoT Hub's 5671): TLS with the hub's server certificate, then AMQP 1.0. */
public final class AmqpTlsChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final SslContext serverTls;
    private final AmqpEndpoint endpoint;

    public AmqpTlsChannelInitializer(SslContext serverTls, AmqpEndpoint endpoint) {
        this.serverTls = serverTls;
        this.endpoint = endpoint;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        channel.pipeline().addLast("tls", serverTls.newHandler(channel.alloc()));
        endpoint.addAmqpHandlers(channel.pipeline(), "amqp");
    }
}
