package io.ferryhub.hub.adapter.mqtt;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/** The MQTTS listener (IoT Hub's port 8883): TLS with the hub's server certificate, then the MQTT endpoint. */
public final class MqttTlsListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttTlsListener.class);

    private final Channel serverChannel;

    private MqttTlsListener(Channel serverChannel) {
        this.serverChannel = serverChannel;
    }

    /** Binds and starts accepting; blocks only until the port is bound. Port 0 picks a free port. */
    public static MqttTlsListener bind(EventLoopGroup acceptors, EventLoopGroup workers, SslContext serverTls,
                                       MqttDeviceEndpoint endpoint, String bindAddress, int port)
            throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("tls", serverTls.newHandler(ch.alloc()));
                        endpoint.addMqttHandlers(ch.pipeline(), "mqtt");
                    }
                });
        Channel channel = bootstrap.bind(new InetSocketAddress(bindAddress, port)).sync().channel();
        MqttTlsListener listener = new MqttTlsListener(channel);
        log.info("MQTT (TLS) listening on {}", channel.localAddress());
        return listener;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Stops accepting; live connections close with the worker group. */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
    }
}
