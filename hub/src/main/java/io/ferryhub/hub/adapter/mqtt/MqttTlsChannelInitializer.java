package io.ferryhub.hub.adapter.mqtt;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;

/** A connection to the MQTTS port (IoT Hub's 8883): TLS with the hub's server certificate, then the MQTT endpoint. */
public final class MqttTlsChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final SslContext serverTls;
    private final MqttDeviceEndpoint endpoint;

    public MqttTlsChannelInitializer(SslContext serverTls, MqttDeviceEndpoint endpoint) {
        this.serverTls = serverTls;
        this.endpoint = endpoint;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        channel.pipeline().addLast("tls", serverTls.newHandler(channel.alloc()));
        endpoint.addMqttHandlers(channel.pipeline(), "mqtt");
    }
}
