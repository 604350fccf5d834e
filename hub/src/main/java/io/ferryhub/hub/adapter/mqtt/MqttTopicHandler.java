package io.ferryhub.hub.adapter.mqtt;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * One family of IoT Hub MQTT topics (telemetry, C2D, streams, later twin and methods). The MQTT adapter holds a
 * table of these and dispatches every PUBLISH and SUBSCRIBE to the handler that owns the topic; the adapter
 * itself enforces the ACL (own topics and {@code $iothub/} only) and QoS rules before calling here.
 */
public interface MqttTopicHandler {
    /** Whether a device PUBLISH to this topic belongs to this handler. */
    boolean ownsPublish(String topic);

    /**
     * Handles a device PUBLISH. The adapter sends PUBACK (for QoS 1) when the future completes normally, and
     * closes the connection if it fails. The payload is only valid during the call: copy what must outlive it.
     */
    CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos);

    /**
     * Handles the Will a device left in its CONNECT, which the adapter publishes for it when the connection ends
     * without DISCONNECT. The session is already closed.
     */
    default CompletableFuture<Void> onWill(MqttDeviceSession session, String topic, ByteBuf payload) {
        return onPublish(session, topic, payload, 1);
    }

    /** Whether a SUBSCRIBE topic filter belongs to this handler. */
    boolean ownsSubscription(String topicFilter);

    /** Called after the subscription is recorded and granted; e.g. C2D starts delivering queued messages. */
    default void onSubscribed(MqttDeviceSession session, String topicFilter) {
    }

    /** Called once when the session ends, for any reason. */
    default void onSessionClosed(MqttDeviceSession session) {
    }
}
