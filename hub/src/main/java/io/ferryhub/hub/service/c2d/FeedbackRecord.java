package io.ferryhub.hub.service.c2d;

/**
 * What happened to a cloud-to-device message whose sender asked for feedback, as IoT Hub reports it.
 *
 * @param statusCode {@code Success}, {@code Expired}, {@code DeliveryCountExceeded}, {@code Rejected} or
 *                   {@code Purged}
 * @param deviceGenerationId null when the device was not connected when it happened
 */
public record FeedbackRecord(String originalMessageId, String deviceId, String deviceGenerationId, String statusCode,
                             String description, long enqueuedMillis) {
}
