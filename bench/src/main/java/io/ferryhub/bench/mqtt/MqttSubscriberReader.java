package io.ferryhub.bench.mqtt;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Mosquitto's read path: one MQTT subscriber at QoS 1 on every device's telemetry topic, acknowledging each message,
 * reporting each one's publish-to-read latency.
 */
final class MqttSubscriberReader implements AutoCloseable {
    private final Channel channel;

    private MqttSubscriberReader(Channel channel) {
        this.channel = channel;
    }

    static MqttSubscriberReader start(EventLoopGroup group, SslContext tls, String tlsHost, InetSocketAddress broker,
                                      String topicFilter, TelemetryStats stats) throws Exception {
        CompletableFuture<Void> subscribed = new CompletableFuture<>();
        Channel channel = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc(), tlsHost, broker.getPort()));
                        ch.pipeline().addLast(new MqttDecoder());
                        ch.pipeline().addLast(MqttEncoder.INSTANCE);
                        ch.pipeline().addLast(new SubscriberHandler(topicFilter, stats, subscribed));
                    }
                })
                .connect(broker).sync().channel();
        try {
            subscribed.get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            channel.close();
            throw e;
        }
        return new MqttSubscriberReader(channel);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static final class SubscriberHandler extends SimpleChannelInboundHandler<MqttMessage> {
        private final String topicFilter;
        private final TelemetryStats stats;
        private final CompletableFuture<Void> subscribed;

        SubscriberHandler(String topicFilter, TelemetryStats stats, CompletableFuture<Void> subscribed) {
            this.topicFilter = topicFilter;
            this.stats = stats;
            this.subscribed = subscribed;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.writeAndFlush(MqttMessageBuilders.connect()
                    .protocolVersion(MqttVersion.MQTT_3_1_1)
                    .clientId("bench-telemetry-reader")
                    .cleanSession(true)
                    .keepAlive(0)
                    .build());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, MqttMessage msg) {
            MqttMessageType type = msg.fixedHeader().messageType();
            if (type == MqttMessageType.PUBLISH) {
                MqttPublishMessage publish = (MqttPublishMessage) msg;
                stats.onRead(TelemetryPayload.sentNanos(publish.payload()), System.nanoTime());
                if (publish.fixedHeader().qosLevel() == MqttQoS.AT_LEAST_ONCE) {
                    // flushed once per read batch, in channelReadComplete
                    ctx.write(MqttMessageBuilders.pubAck().packetId(publish.variableHeader().packetId()).build());
                }
            } else if (type == MqttMessageType.CONNACK) {
                MqttConnectReturnCode code = ((MqttConnAckMessage) msg).variableHeader().connectReturnCode();
                if (code != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                    subscribed.completeExceptionally(new IOException("reader refused: " + code));
                    return;
                }
                ctx.writeAndFlush(MqttMessageBuilders.subscribe().messageId(1)
                        .addSubscription(MqttQoS.AT_LEAST_ONCE, topicFilter).build());
            } else if (type == MqttMessageType.SUBACK) {
                subscribed.complete(null);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            subscribed.completeExceptionally(new IOException("reader connection closed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            subscribed.completeExceptionally(cause);
            ctx.close();
        }
    }
}
