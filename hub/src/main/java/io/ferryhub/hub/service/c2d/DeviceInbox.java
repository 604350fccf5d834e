package io.ferryhub.hub.service.c2d;

import io.ferryhub.hub.service.c2d.C2dMessage;

import java.util.concurrent.CompletableFuture;

/**
 * A device connection that is ready for cloud-to-device messages (over MQTT: subscribed to its devicebound
 * topic). Implemented by the device transports.
 */
public interface DeviceInbox {
    String deviceId();

    /** Stamped in feedback records. */
    String generationId();

    /**
     * Hands a message to the device. Completes when the device has acknowledged it (MQTT: PUBACK), which completes
     * the message; fails if the connection ends first, which makes it deliverable again.
     */
    CompletableFuture<Void> deliver(C2dMessage message);
}
