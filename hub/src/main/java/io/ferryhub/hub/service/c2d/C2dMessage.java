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
 * @param contentType     the body's content type as the sender set it, or null (also in queues stored before it was)
 * @param contentEncoding the body's content encoding as the sender set it, or null
 */
public record C2dMessage(String deviceId, String messageId, long sequenceNumber, String correlationId, String userId,
                         String ack, long enqueuedMillis, long expiryMillis, Map<String, String> properties,
                         byte[] body, int deliveryCount, String contentType, String contentEncoding) {
    public C2dMessage {
        // the sender's order is kept: it is the order of the property bag the device sees
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    /** A message without a content type or encoding. */
    public C2dMessage(String deviceId, String messageId, long sequenceNumber, String correlationId, String userId,
                      String ack, long enqueuedMillis, long expiryMillis, Map<String, String> properties,
                      byte[] body, int deliveryCount) {
        this(deviceId, messageId, sequenceNumber, correlationId, userId, ack, enqueuedMillis, expiryMillis,
                properties, body, deliveryCount, null, null);
    }

    public C2dMessage withDeliveryCount(int count) {
        return new C2dMessage(deviceId, messageId, sequenceNumber, correlationId, userId, ack, enqueuedMillis,
                expiryMillis, properties, body, count, contentType, contentEncoding);
    }
}
