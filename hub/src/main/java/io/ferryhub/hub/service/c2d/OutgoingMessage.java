package io.ferryhub.hub.service.c2d;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cloud-to-device message as a back-end app sends it.
 *
 * @param messageId  null to have the hub assign one
 * @param ack        {@code iothub-ack}: none, positive, negative or full; null means none
 * @param expiry     absolute expiry; null for the hub's default time to live
 * @param properties application properties
 */
public record OutgoingMessage(String messageId, String correlationId, String userId, String ack, Instant expiry,
                              Map<String, String> properties, byte[] body) {
    public OutgoingMessage {
        // the sender's order is kept: it is the order of the property bag the device sees
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }
}
