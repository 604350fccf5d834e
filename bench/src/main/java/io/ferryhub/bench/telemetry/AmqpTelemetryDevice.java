package io.ferryhub.bench.telemetry;

import io.ferryhub.bench.mqtt.TelemetryPayload;
import io.ferryhub.bench.mqtt.TelemetryStats;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Event;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.message.Message;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated device over AMQPS, driven by Proton-J's engine on a Netty channel (the engine the Azure SDKs use):
 * SASL PLAIN with its SAS token, one sending link to {@code /devices/{id}/messages/events}, unsettled transfers with
 * a fixed window in flight. A message counts as acknowledged when the hub's {@code accepted} outcome comes back,
 * which the hub sends once the message is durable.
 */
final class AmqpTelemetryDevice extends ChannelInboundHandlerAdapter implements TelemetryPublisher {
    private final String deviceId;
    private final String hubHost;
    private final String token;
    private final CompletableFuture<AmqpTelemetryDevice> attached = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private Transport transport;
    private Connection connection;
    private Collector collector;
    private Sender sender;
    private TelemetryStats stats;
    private int payloadBytes;
    private int window;
    private int inFlight;
    private int sequence;
    private boolean publishing;
    private long tags;

    private AmqpTelemetryDevice(String deviceId, String hubHost, String token) {
        this.deviceId = deviceId;
        this.hubHost = hubHost;
        this.token = token;
    }

    /** Connects over TLS and completes once the hub attached the telemetry link. */
    static CompletableFuture<AmqpTelemetryDevice> connect(EventLoopGroup group, SslContext tls,
                                                          InetSocketAddress hub, String hubHost, String deviceId,
                                                          String token) {
        AmqpTelemetryDevice device = new AmqpTelemetryDevice(deviceId, hubHost, token);
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc(), hubHost, hub.getPort()), device);
                    }
                })
                .connect(hub).addListener(done -> {
                    if (!done.isSuccess()) {
                        device.attached.completeExceptionally(done.cause());
                    }
                });
        return device.attached;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.pipeline().get(SslHandler.class).handshakeFuture().addListener(done -> {
            if (done.isSuccess()) {
                open();
            } else {
                attached.completeExceptionally(done.cause());
            }
        });
        ctx.fireChannelActive();
    }

    private void open() {
        transport = Proton.transport();
        Sasl sasl = transport.sasl();
        sasl.client();
        sasl.plain(deviceId + "@sas." + hubHost.split("\\.")[0], token);
        connection = Proton.connection();
        collector = Proton.collector();
        connection.collect(collector);
        connection.setHostname(hubHost);
        connection.setContainer(deviceId);
        transport.bind(connection);
        connection.open();
        Session session = connection.session();
        session.open();
        sender = session.sender("telemetry-" + deviceId);
        Target target = new Target();
        target.setAddress("/devices/" + deviceId + "/messages/events");
        sender.setTarget(target);
        sender.setSource(new Source());
        sender.open();
        pump();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf bytes = (ByteBuf) msg;
        try {
            while (bytes.isReadable()) {
                int capacity = transport.capacity();
                if (capacity <= 0) {
                    break;
                }
                ByteBuffer tail = transport.tail();
                int n = Math.min(capacity, bytes.readableBytes());
                tail.limit(tail.position() + n);
                bytes.readBytes(tail);
                transport.process();
            }
        } finally {
            bytes.release();
        }
        pump();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        attached.completeExceptionally(new IllegalStateException(deviceId + ": the hub closed the connection"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        attached.completeExceptionally(cause);
        ctx.close();
    }

    private void pump() {
        Event event;
        while ((event = collector.peek()) != null) {
            switch (event.getType()) {
                case LINK_REMOTE_OPEN -> {
                    if (sender.getRemoteTarget() != null) {
                        attached.complete(this);
                    }
                }
                case LINK_REMOTE_CLOSE -> attached.completeExceptionally(new IllegalStateException(deviceId
                        + ": telemetry link refused: " + sender.getRemoteCondition()));
                case DELIVERY -> onOutcome(event.getDelivery());
                case LINK_FLOW -> sendMore();
                default -> {
                }
            }
            collector.pop();
        }
        flush();
    }

    private void flush() {
        while (true) {
            int pending = transport.pending();
            if (pending <= 0) {
                break;
            }
            ByteBuffer head = transport.head();
            ByteBuf out = ctx.alloc().buffer(head.remaining());
            out.writeBytes(head);
            transport.pop(out.readableBytes());
            ctx.write(out);
        }
        ctx.flush();
    }

    private void onOutcome(Delivery delivery) {
        DeliveryState state = delivery.getRemoteState();
        if (state == null) {
            return;
        }
        long sentNanos = (Long) delivery.getContext();
        delivery.settle();
        inFlight--;
        if (state instanceof Accepted) {
            stats.onAck(sentNanos, System.nanoTime());
        }
        sendMore();
    }

    private void sendMore() {
        while (publishing && inFlight < window && sender.getCredit() > 0
                && sender.getLocalState() == EndpointState.ACTIVE) {
            long now = System.nanoTime();
            ByteBuf payload = TelemetryPayload.create(ctx.alloc(), payloadBytes, now, 0, sequence++);
            Message message = Proton.message();
            Properties properties = new Properties();
            properties.setMessageId(deviceId + "-" + sequence);
            message.setProperties(properties);
            message.setBody(new Data(new Binary(ByteBufUtil.getBytes(payload))));
            payload.release();
            byte[] encoded = new byte[payloadBytes + 256];
            int length = message.encode(encoded, 0, encoded.length);
            Delivery delivery = sender.delivery(Long.toString(tags++).getBytes());
            delivery.setContext(now);
            sender.send(encoded, 0, length);
            sender.advance();
            inFlight++;
            stats.published.increment();
        }
    }

    @Override
    public void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
        ctx.executor().execute(() -> {
            this.stats = stats;
            this.payloadBytes = payloadBytes;
            this.window = window;
            this.publishing = true;
            sendMore();
            flush();
        });
    }

    @Override
    public void stopPublishing() {
        ctx.executor().execute(() -> publishing = false);
    }

    @Override
    public void close() {
        Channel channel = ctx.channel();
        channel.eventLoop().execute(() -> {
            connection.close();
            flush();
            channel.close();
        });
    }
}
