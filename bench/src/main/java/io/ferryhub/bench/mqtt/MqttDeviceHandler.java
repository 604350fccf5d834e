package io.ferryhub.bench.mqtt;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttPublishVariableHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.timeout.IdleStateEvent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated device: CONNECT with its credentials, then, when told to, QoS 1 telemetry with a fixed number of
 * PUBLISHes in flight (each PUBACK releases the next one). Keeps the connection alive with PINGREQ when idle. All
 * state is confined to the channel's event loop.
 */
public final class MqttDeviceHandler extends SimpleChannelInboundHandler<MqttMessage> {
    private static final int MAX_PACKET_ID = 65_535;
    private static final long FREE = Long.MIN_VALUE;
    private static final String METHOD_REQUESTS = "$iothub/methods/POST/";

    private final DeviceCredentials credentials;
    private final int connectionIndex;
    private final int keepAliveSeconds;
    private final CompletableFuture<MqttDeviceHandler> connected = new CompletableFuture<>();
    /**
     * Publish time of each packet id in flight, in a ring of at least twice the window (a power of two) indexed by
     * the id's low bits, so tens of thousands of idle connections cost no memory here. An id whose slot is still
     * taken (a PUBACK overtaken by later ones) is skipped, so no slot is ever shared.
     */
    private long[] sentAt;
    private int slotMask;

    private ChannelHandlerContext ctx;
    private TelemetryStats stats;
    private int payloadBytes;
    private int window;
    private boolean publishing;
    private int inFlight;
    private int nextPacketId = 1;
    private int sequence;
    private boolean pendingFlush;

    MqttDeviceHandler(DeviceCredentials credentials, int connectionIndex, int keepAliveSeconds) {
        this.credentials = credentials;
        this.connectionIndex = connectionIndex;
        this.keepAliveSeconds = keepAliveSeconds;
    }

    /** Completes when CONNACK accepts the connection; fails on refusal or on a connection lost before. */
    CompletableFuture<MqttDeviceHandler> connected() {
        return connected;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        // SslHandler holds this until the handshake is done
        MqttMessageBuilders.ConnectBuilder connect = MqttMessageBuilders.connect()
                .protocolVersion(MqttVersion.MQTT_3_1_1)
                .clientId(credentials.clientId())
                .cleanSession(true)
                .keepAlive(keepAliveSeconds)
                .hasUser(true)
                .username(credentials.userName());
        if (credentials.password() != null) {
            connect.hasPassword(true).password(credentials.password().getBytes(StandardCharsets.UTF_8));
        }
        ctx.writeAndFlush(connect.build());
        ctx.fireChannelActive();
    }

    /** Starts publishing; runs on the event loop. */
    void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
        ctx.executor().execute(() -> {
            this.stats = stats;
            this.payloadBytes = payloadBytes;
            this.window = window;
            int slots = Integer.highestOneBit(Math.max(1, window)) * 4;
            this.sentAt = new long[slots];
            java.util.Arrays.fill(sentAt, FREE);
            this.slotMask = slots - 1;
            this.publishing = true;
            while (inFlight < window) {
                publishOne();
            }
            ctx.flush();
        });
    }

    /** Stops sending new messages; those in flight still get their PUBACK counted. */
    void stopPublishing() {
        ctx.executor().execute(() -> publishing = false);
    }

    int inFlight() {
        return inFlight;
    }

    private int nextFreePacketId() {
        while (true) {
            int id = nextPacketId;
            nextPacketId = id == MAX_PACKET_ID ? 1 : id + 1;
            if (sentAt[id & slotMask] == FREE) {
                return id;
            }
        }
    }

    private void publishOne() {
        int packetId = nextFreePacketId();
        long now = System.nanoTime();
        sentAt[packetId & slotMask] = now;
        inFlight++;
        stats.published.increment();
        // built directly: MqttMessageBuilders copies the payload into a new buffer and never releases the original
        MqttPublishMessage publish = new MqttPublishMessage(
                new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_LEAST_ONCE, false, 0),
                new MqttPublishVariableHeader(credentials.telemetryTopic(), packetId),
                TelemetryPayload.create(ctx.alloc(), payloadBytes, now, connectionIndex, sequence++));
        ctx.write(publish);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, MqttMessage msg) {
        MqttMessageType type = msg.fixedHeader().messageType();
        switch (type) {
            case CONNACK -> onConnAck((MqttConnAckMessage) msg);
            case PUBACK -> onPubAck(((MqttMessageIdVariableHeader) msg.variableHeader()).messageId());
            case PINGRESP, SUBACK -> {
            }
            case PUBLISH -> onPublish((MqttPublishMessage) msg);
            default -> {
                // anything else the broker sends is not part of the benchmarks
            }
        }
    }

    /**
     * Subscribes to direct method requests; each is answered at once with status 200 and the request's payload
     * (the twins benchmark's method round trips). Not combined with telemetry: it uses its own packet id.
     */
    void answerMethods() {
        ctx.executor().execute(() -> ctx.writeAndFlush(MqttMessageBuilders.subscribe().messageId(MAX_PACKET_ID)
                .addSubscription(MqttQoS.AT_MOST_ONCE, METHOD_REQUESTS + "#").build()));
    }

    private void onPublish(MqttPublishMessage publish) {
        String topic = publish.variableHeader().topicName();
        int rid = topic.indexOf("?$rid=");
        if (!topic.startsWith(METHOD_REQUESTS) || rid < 0) {
            return; // C2D or anything else: not part of the benchmarks
        }
        ctx.writeAndFlush(new MqttPublishMessage(
                new MqttFixedHeader(MqttMessageType.PUBLISH, false, MqttQoS.AT_MOST_ONCE, false, 0),
                new MqttPublishVariableHeader("$iothub/methods/res/200/" + topic.substring(rid), 0),
                publish.payload().retainedDuplicate()));
    }

    private void onConnAck(MqttConnAckMessage ack) {
        MqttConnectReturnCode code = ack.variableHeader().connectReturnCode();
        if (code == MqttConnectReturnCode.CONNECTION_ACCEPTED) {
            connected.complete(this);
        } else {
            connected.completeExceptionally(new IOException(credentials.clientId() + " refused: " + code));
            ctx.close();
        }
    }

    private void onPubAck(int packetId) {
        long now = System.nanoTime();
        if (sentAt == null || sentAt[packetId & slotMask] == FREE) {
            return; // not a PUBACK of ours: nothing to time
        }
        long sent = sentAt[packetId & slotMask];
        sentAt[packetId & slotMask] = FREE;
        inFlight--;
        stats.onAck(sent, now);
        if (publishing && inFlight < window) {
            publishOne();
            pendingFlush = true;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // one flush (one TLS record and write call) for all PUBLISHes released by the PUBACKs of this read
        if (pendingFlush) {
            pendingFlush = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.writeAndFlush(MqttMessage.PINGREQ);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connected.completeExceptionally(new IOException(credentials.clientId() + ": connection closed"
                + (connected.isDone() ? "" : " before CONNACK")));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connected.completeExceptionally(cause);
        ctx.close();
    }
}
