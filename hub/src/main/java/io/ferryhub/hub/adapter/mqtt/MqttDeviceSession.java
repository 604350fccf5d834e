package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.connection.DeviceLink;

import java.util.concurrent.CompletableFuture;

/** One authenticated MQTT connection of a device or module, as topic handlers see it. */
public interface MqttDeviceSession extends DeviceLink {
    /**
     * Publishes to the device, at the lower of {@code qos} and the QoS its matching subscription was granted (as MQTT
     * requires). The future completes when the message is written (QoS 0) or PUBACKed (QoS 1), and fails if the
     * connection closes first. Safe to call from any thread.
     */
    CompletableFuture<Void> publish(String topic, byte[] payload, int qos);

    /** Whether the device holds a subscription whose filter matches {@code topic}. */
    boolean isSubscribed(String topic);

    /** Tells the hub's connection registry that this session's subscriptions changed. */
    void subscriptionsChanged();
}
