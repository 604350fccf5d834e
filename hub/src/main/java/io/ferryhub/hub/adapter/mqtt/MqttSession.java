package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.ferryhub.signaling.StreamRequestSink;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttPubAckMessage;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.handler.codec.mqtt.MqttUnsubscribeMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One authenticated MQTT connection: the device's subscriptions, its PUBLISHes dispatched through the topic
 * handler table with PUBACKs sent in order once handled, and the hub's PUBLISHes to it. All state changes happen
 * on the channel's event loop; {@link #publish} and {@link #isSubscribed} may be called from any thread.
 */
final class MqttSession extends SimpleChannelInboundHandler<MqttMessage> implements MqttDeviceSession {
    private static final Logger log = LoggerFactory.getLogger(MqttSession.class);
    /** A topic any {@code $iothub/streams/POST/...} subscription matches. */
    private static final String STREAM_REQUEST_PROBE = StreamTopics.REQUEST_PREFIX + "probe/?$rid=0";

    private final Channel channel;
    private final AuthenticatedDevice identity;
    private final String transport;
    private final MqttDeviceEndpoint endpoint;
    private final TopicAcl acl;
    private final WillMessage will;
    /** Topic filter to the QoS it was granted. */
    private final Map<String, Integer> subscriptions = new ConcurrentHashMap<>();
    private final ArrayDeque<PendingAck> pendingAcks = new ArrayDeque<>();
    /** SUBACKs and UNSUBACKs, each sent in order once the subscriptions it acknowledges are stored. */
    private final ArrayDeque<PendingSubscriptionAck> pendingSubscriptionAcks = new ArrayDeque<>();
    private final Map<Integer, CompletableFuture<Void>> awaitingPubAck = new HashMap<>();
    private final StreamRequestSink streamSink;
    /** The identity's session, stored when the connection was asked for a persistent one; set by {@link #start}. */
    private PersistentSessions.Session session;
    private int lastPacketId;
    private boolean disconnectReceived;
    private boolean readingPaused;
    private ScheduledFuture<?> credentialExpiry;
    private long lastActivityReport;

    /** A device PUBLISH being handled; {@code packetId} is 0 for QoS 0. */
    private record PendingAck(int packetId, String topic, CompletableFuture<Void> handled) {
    }

    private record PendingSubscriptionAck(MqttMessage ack, CompletableFuture<Void> stored) {
    }

    MqttSession(Channel channel, AuthenticatedDevice identity, String transport, MqttDeviceEndpoint endpoint,
                WillMessage will) {
        this.channel = channel;
        this.identity = identity;
        this.transport = transport;
        this.endpoint = endpoint;
        this.acl = new TopicAcl(identity);
        this.will = will;
        this.streamSink = request -> publish(StreamTopics.requestTopic(request, remoteIp()), new byte[0], 0)
                .exceptionally(e -> {
                    log.info("{} {}: stream request {} not delivered: {}", transport, identity.clientId(),
                            request.requestId(), e.toString());
                    return null;
                });
    }

    /** Whether the Will the device left names its own telemetry space and a handler takes it. */
    boolean acceptsWill() {
        return acl.mayPublish(will.topic()) && !will.topic().startsWith(TopicAcl.IOTHUB_PREFIX)
                && endpoint.topicHandlers().forPublish(will.topic()).isPresent();
    }

    /**
     * Called on the event loop just before CONNACK is written: joins the connection registry, and restores a resumed
     * session's subscriptions as if the device had just made them.
     */
    void start(PersistentSessions.Session opened) {
        session = opened;
        endpoint.connections().register(this);
        Map<String, Integer> stored = opened.subscriptions();
        Map<String, Integer> restored = servedOf(stored);
        if (!restored.isEmpty()) {
            subscriptions.putAll(restored);
            subscribed(restored.keySet());
        }
        if (restored.size() != stored.size()) {
            // a session stored by an earlier version may hold filters the hub no longer serves: keep it small
            log.info("{} {}: {} of its session's {} subscriptions dropped: this hub serves no such topic", transport,
                    identity.clientId(), stored.size() - restored.size(), stored.size());
            logIfNotStored(opened.save(subscriptions));
        }
        long secondsLeft = identity.credentialExpiry() - Instant.now().getEpochSecond();
        if (identity.credentialExpiry() != Long.MAX_VALUE) {
            credentialExpiry = channel.eventLoop().schedule(() -> {
                log.info("{} {}: its SAS token expired; closing", transport, identity.clientId());
                channel.close();
            }, Math.max(0, secondsLeft), TimeUnit.SECONDS);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, MqttMessage message) {
        if (message.decoderResult().isFailure()) {
            violation("an undecodable packet (" + message.decoderResult().cause() + ")");
            return;
        }
        switch (message.fixedHeader().messageType()) {
            case PUBLISH -> {
                reportActivity();
                onPublish((MqttPublishMessage) message);
            }
            case PUBACK -> {
                reportActivity();
                onPubAck(((MqttPubAckMessage) message).variableHeader().messageId());
            }
            case SUBSCRIBE -> onSubscribe((MqttSubscribeMessage) message);
            case UNSUBSCRIBE -> onUnsubscribe((MqttUnsubscribeMessage) message);
            case PINGREQ -> ctx.writeAndFlush(MqttMessage.PINGRESP);
            case DISCONNECT -> {
                disconnectReceived = true;
                ctx.close();
            }
            default -> violation("a " + message.fixedHeader().messageType() + " packet");
        }
    }

    /** Moves the identity's lastActivityTime; at most once a second, it is not worth more per message. */
    private void reportActivity() {
        long now = System.currentTimeMillis();
        if (now - lastActivityReport >= 1000) {
            lastActivityReport = now;
            endpoint.connections().activity(this);
        }
    }

    private void onPublish(MqttPublishMessage message) {
        String topic = message.variableHeader().topicName();
        int qos = message.fixedHeader().qosLevel().value();
        if (qos > 1) {
            violation("a QoS 2 PUBLISH to '" + topic + "' (IoT Hub supports QoS 0 and 1)");
            return;
        }
        if (!acl.mayPublish(topic)) {
            violation("a PUBLISH to a topic that is not its own: '" + topic + "'");
            return;
        }
        Optional<MqttTopicHandler> handler = endpoint.topicHandlers().forPublish(topic);
        if (handler.isEmpty()) {
            violation("a PUBLISH to an unsupported topic: '" + topic + "'");
            return;
        }
        String dispatched = message.fixedHeader().isRetain() && !topic.startsWith(TopicAcl.IOTHUB_PREFIX)
                ? PropertyBagTopic.withProperty(topic, "x-opt-retain", "true") : topic;
        CompletableFuture<Void> handled;
        try {
            handled = handler.get().onPublish(this, dispatched, message.payload(), qos);
        } catch (RuntimeException e) {
            handled = CompletableFuture.failedFuture(e);
        }
        pendingAcks.add(new PendingAck(qos == 1 ? message.variableHeader().packetId() : 0, topic, handled));
        handled.whenComplete((ok, error) -> channel.eventLoop().execute(this::sendCompletedAcks));
        if (pendingAcks.size() >= endpoint.settings().maxPendingAcks() && !readingPaused) {
            readingPaused = true;
            channel.config().setAutoRead(false);
        }
    }

    /** PUBACKs go out in the order the PUBLISHes came in, as MQTT requires, each once its handling is done. */
    private void sendCompletedAcks() {
        boolean wrote = false;
        while (!pendingAcks.isEmpty() && pendingAcks.peek().handled().isDone()) {
            PendingAck done = pendingAcks.poll();
            if (done.handled().isCompletedExceptionally()) {
                Throwable cause = done.handled().handle((ok, e) -> e).join();
                closeForFailedPublish(done.topic(), cause);
                return;
            }
            if (done.packetId() != 0 && channel.isActive()) {
                channel.write(MqttMessageBuilders.pubAck().packetId(done.packetId()).build());
                wrote = true;
            }
        }
        if (wrote) {
            channel.flush();
        }
        if (readingPaused && pendingAcks.size() <= endpoint.settings().maxPendingAcks() / 2) {
            readingPaused = false;
            channel.config().setAutoRead(true);
        }
    }

    private void closeForFailedPublish(String topic, Throwable cause) {
        Throwable root = cause instanceof CompletionException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (root instanceof HubException hub) {
            log.warn("{} {}: PUBLISH to '{}' refused ({} {}); closing the connection, as IoT Hub does",
                    transport, identity.clientId(), topic, hub.errorCode(), hub.getMessage());
        } else {
            log.error("{} {}: PUBLISH to '{}' failed; closing the connection", transport, identity.clientId(), topic,
                    root);
        }
        pendingAcks.clear();
        channel.close();
    }

    private void onSubscribe(MqttSubscribeMessage message) {
        List<MqttQoS> granted = new ArrayList<>();
        List<String> added = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        boolean changed = false;
        for (MqttTopicSubscription subscription : message.payload().topicSubscriptions()) {
            String filter = subscription.topicFilter();
            if (!acl.maySubscribe(filter)) {
                violation("a SUBSCRIBE to a filter that is not its own: '" + filter + "'");
                return;
            }
            boolean served = endpoint.topicHandlers().forSubscription(filter).isPresent();
            boolean full = !subscriptions.containsKey(filter)
                    && subscriptions.size() >= endpoint.settings().maxSubscriptions();
            if (!served || full) {
                refused.add(filter);
                granted.add(MqttQoS.FAILURE);
                continue;
            }
            // IoT Hub never grants QoS 2
            MqttQoS qos = subscription.qualityOfService() == MqttQoS.AT_MOST_ONCE ? MqttQoS.AT_MOST_ONCE
                    : MqttQoS.AT_LEAST_ONCE;
            granted.add(qos);
            changed |= !Integer.valueOf(qos.value()).equals(subscriptions.put(filter, qos.value()));
            added.add(filter);
        }
        if (!refused.isEmpty()) {
            // one line per SUBSCRIBE, however many filters it carried
            log.info("{} {}: {} subscription(s) refused, e.g. '{}': this hub serves no such topic, or the session "
                    + "holds {} already", transport, identity.clientId(), refused.size(), refused.get(0),
                    endpoint.settings().maxSubscriptions());
        }
        // the services learn of the subscription before the SUBACK leaves: a client that acts on its SUBACK (a
        // back-end invoking a method right after the device subscribed) must find the device ready. MQTT 3.1.1
        // (3.8.4) lets PUBLISHes matching the new subscription precede the SUBACK. A persistent session's SUBACK
        // also waits until the subscription is durable: it must survive a hub crash once acknowledged. A SUBSCRIBE
        // that changes nothing (SDKs subscribe again on every reconnect) writes nothing; its SUBACK still waits
        // behind earlier ones, whose writes it depends on.
        CompletableFuture<Void> stored = CompletableFuture.completedFuture(null);
        if (!added.isEmpty()) {
            subscribed(added);
        }
        if (changed) {
            stored = session.save(subscriptions);
        }
        acknowledgeWhenStored(MqttMessageBuilders.subAck().packetId(message.variableHeader().messageId())
                .addGrantedQoses(granted.toArray(MqttQoS[]::new)).build(), stored);
    }

    /** Of a stored session's subscriptions, those a handler serves, up to the session limit. */
    private Map<String, Integer> servedOf(Map<String, Integer> stored) {
        Map<String, Integer> served = new HashMap<>();
        for (Map.Entry<String, Integer> subscription : stored.entrySet()) {
            if (served.size() < endpoint.settings().maxSubscriptions()
                    && acl.maySubscribe(subscription.getKey())
                    && endpoint.topicHandlers().forSubscription(subscription.getKey()).isPresent()) {
                served.put(subscription.getKey(), subscription.getValue());
            }
        }
        return served;
    }

    private void logIfNotStored(CompletableFuture<Void> write) {
        write.whenComplete((ok, e) -> {
            if (e != null) {
                log.warn("{} {}: its session was not stored: {}", transport, identity.clientId(), e.toString());
            }
        });
    }

    private void acknowledgeWhenStored(MqttMessage ack, CompletableFuture<Void> stored) {
        if (pendingSubscriptionAcks.isEmpty() && stored.isDone() && !stored.isCompletedExceptionally()) {
            channel.writeAndFlush(ack); // a clean session's: nothing to wait for
            return;
        }
        pendingSubscriptionAcks.add(new PendingSubscriptionAck(ack, stored));
        // through the event loop's queue, so acknowledgements leave in the order their packets came
        stored.whenComplete((ok, error) -> channel.eventLoop().execute(this::sendStoredSubscriptionAcks));
    }

    private void sendStoredSubscriptionAcks() {
        boolean wrote = false;
        while (!pendingSubscriptionAcks.isEmpty() && pendingSubscriptionAcks.peek().stored().isDone()) {
            PendingSubscriptionAck done = pendingSubscriptionAcks.poll();
            if (done.stored().isCompletedExceptionally()) {
                log.error("{} {}: its session could not be stored ({}); closing the connection", transport,
                        identity.clientId(), done.stored().handle((ok, e) -> e).join().toString());
                pendingSubscriptionAcks.clear();
                channel.close();
                return;
            }
            if (channel.isActive()) {
                channel.write(done.ack());
                wrote = true;
            }
        }
        if (wrote) {
            channel.flush();
        }
    }

    private void subscribed(Collection<String> filters) {
        for (String filter : filters) {
            endpoint.topicHandlers().forSubscription(filter).ifPresent(h -> h.onSubscribed(this, filter));
        }
        subscriptionsChanged();
    }

    private void onUnsubscribe(MqttUnsubscribeMessage message) {
        boolean changed = false;
        for (String filter : message.payload().topics()) {
            changed |= subscriptions.remove(filter) != null;
        }
        subscriptionsChanged();
        acknowledgeWhenStored(MqttMessageBuilders.unsubAck().packetId(message.variableHeader().messageId()).build(),
                changed ? session.save(subscriptions) : CompletableFuture.completedFuture(null));
    }

    private void onPubAck(int packetId) {
        CompletableFuture<Void> acked = awaitingPubAck.remove(packetId);
        if (acked != null) {
            acked.complete(null);
        }
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, int qos) {
        if (qos < 0 || qos > 1) {
            throw new IllegalArgumentException("the hub publishes with QoS 0 or 1, not " + qos);
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        channel.eventLoop().execute(() -> publishOnLoop(topic, payload, qos, result));
        return result;
    }

    private void publishOnLoop(String topic, byte[] payload, int requestedQos, CompletableFuture<Void> result) {
        if (!channel.isActive()) {
            result.completeExceptionally(closedException());
            return;
        }
        // MQTT delivers at the lower of the message's QoS and the one the subscription was granted
        int granted = grantedQos(topic);
        int qos = granted < 0 ? requestedQos : Math.min(requestedQos, granted);
        int packetId = 0;
        if (qos == 1) {
            packetId = nextPacketId();
            if (packetId == 0) {
                result.completeExceptionally(new HubException(HubErrorCode.ThrottlingException,
                        "65535 messages already await the device's PUBACK"));
                return;
            }
            awaitingPubAck.put(packetId, result);
        }
        MqttPublishMessage message = MqttMessageBuilders.publish().topicName(topic)
                .qos(qos == 1 ? MqttQoS.AT_LEAST_ONCE : MqttQoS.AT_MOST_ONCE).retained(false).messageId(packetId)
                .payload(Unpooled.wrappedBuffer(payload)).build();
        int id = packetId;
        channel.writeAndFlush(message).addListener(written -> {
            if (!written.isSuccess()) {
                if (id != 0) {
                    awaitingPubAck.remove(id);
                }
                result.completeExceptionally(written.cause());
            } else if (id == 0) {
                result.complete(null);
            }
        });
    }

    /** The next free packet id (1..65535), or 0 when every id is awaiting a PUBACK. */
    private int nextPacketId() {
        for (int tries = 0; tries < 65535; tries++) {
            lastPacketId = lastPacketId % 65535 + 1;
            if (!awaitingPubAck.containsKey(lastPacketId)) {
                return lastPacketId;
            }
        }
        return 0;
    }

    @Override
    public boolean isSubscribed(String topic) {
        return grantedQos(topic) >= 0;
    }

    /** The highest QoS granted to a subscription matching the topic, or -1 when none matches. */
    private int grantedQos(String topic) {
        int best = -1;
        for (Map.Entry<String, Integer> subscription : subscriptions.entrySet()) {
            if (subscription.getValue() > best && TopicFilter.matches(subscription.getKey(), topic)) {
                best = subscription.getValue();
            }
        }
        return best;
    }

    @Override
    public void subscriptionsChanged() {
        endpoint.connections().changed(this);
    }

    @Override
    public AuthenticatedDevice identity() {
        return identity;
    }

    @Override
    public String transport() {
        return transport;
    }

    @Override
    public Optional<StreamRequestSink> streamRequests() {
        return isSubscribed(STREAM_REQUEST_PROBE) ? Optional.of(streamSink) : Optional.empty();
    }

    @Override
    public void close(HubErrorCode reason) {
        log.info("{} {}: closing the connection: {} ({})", transport, identity.clientId(), reason, reason.code());
        channel.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.info("{} {}: nothing received for 1.5 keep-alive periods; closing ({})", transport,
                    identity.clientId(), HubErrorCode.DeviceConnectionClosedRemotely);
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.info("{} {}: connection error: {}", transport, identity.clientId(), cause.toString());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (credentialExpiry != null) {
            credentialExpiry.cancel(false);
        }
        endpoint.connections().unregister(this);
        if (session != null) {
            session.close();
        }
        HubException closed = closedException();
        awaitingPubAck.values().forEach(f -> f.completeExceptionally(closed));
        awaitingPubAck.clear();
        for (MqttTopicHandler handler : endpoint.topicHandlers().all()) {
            try {
                handler.onSessionClosed(this);
            } catch (RuntimeException e) {
                log.error("{} {}: topic handler failed on close", transport, identity.clientId(), e);
            }
        }
        log.info("{} {} disconnected{}", transport, identity.clientId(),
                disconnectReceived ? "" : " without DISCONNECT");
        if (!disconnectReceived && will != null) {
            publishWill();
        }
        ctx.fireChannelInactive();
    }

    private void publishWill() {
        endpoint.topicHandlers().forPublish(will.topic()).ifPresent(handler -> {
            try {
                handler.onWill(this, will.topic(), Unpooled.wrappedBuffer(will.payload())).whenComplete((ok, e) -> {
                    if (e != null) {
                        log.warn("{} {}: its Will was not stored: {}", transport, identity.clientId(), e.toString());
                    }
                });
                log.info("{} {}: Will forwarded as telemetry", transport, identity.clientId());
            } catch (RuntimeException e) {
                log.warn("{} {}: its Will was not stored: {}", transport, identity.clientId(), e.toString());
            }
        });
    }

    private void violation(String what) {
        log.warn("{} {} sent {}; closing the connection, as IoT Hub does", transport, identity.clientId(), what);
        channel.close();
    }

    private HubException closedException() {
        return new HubException(HubErrorCode.DeviceNotOnline, identity.clientId() + " disconnected");
    }

    private String remoteIp() {
        SocketAddress address = channel.remoteAddress();
        return address instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : null;
    }
}
