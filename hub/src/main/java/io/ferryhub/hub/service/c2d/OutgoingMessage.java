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
 * @param contentType     the body's content type ({@code $.ct} on MQTT, {@code content-type} on AMQP), or null
 * @param contentEncoding the body's content encoding ({@code $.ce}, {@code content-encoding}), or null
 */
public record OutgoingMessage(String messageId, String correlationId, String userId, String ack, Instant expiry,
                              Map<String, String> properties, byte[] body, String contentType,
                              String contentEncoding) {
    public OutgoingMessage {
        // the sender's order is kept: it is the order of the property bag the device sees
        properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    /** A message without a content type or encoding. */
    public OutgoingMessage(String messageId, String correlationId, String userId, String ack, Instant expiry,
                           Map<String, String> properties, byte[] body) {
        this(messageId, correlationId, userId, ack, expiry, properties, body, null, null);
    }
}
