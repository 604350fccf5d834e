package io.ferryhub.hub.service.c2d;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cloud-to-device message in a device's queue.
 *
 * @param sequenceNumber unique within the device's queue, increasing in send order
 * @param ack            the feedback the sender asked for: {@code none}, {@code positive}, {@code negative} or
 *                       {@code full}
 * @param expiryMillis   epoch milliseconds after which the message expires undelivered
 * @param deliveryCount  how many times it was handed to the device without being completed
 */
public record C2dMessage(String deviceId, String messageId, long sequenceNumber, String correlationId, String userId,
                         String ack, long enqueuedMillis, long expiryMillis, Map<String, String> properties,
                         byte[] body, int deliveryCount) {
    public C2dMessage {
        // the sender's order is kept: it is the order of the property bag the device sees
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    public C2dMessage withDeliveryCount(int count) {
        return new C2dMessage(deviceId, messageId, sequenceNumber, correlationId, userId, ack, enqueuedMillis,
                expiryMillis, properties, body, count);
    }
}
