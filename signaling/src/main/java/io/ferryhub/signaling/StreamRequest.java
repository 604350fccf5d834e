package io.ferryhub.signaling;

/**
 * A stream request on its way to a device: what the hub publishes on {@code $iothub/streams/POST/{name}/...} over
 * MQTT (or sends on the AMQP streams link).
 *
 * @param requestId the {@code $rid} the device echoes in its answer
 * @param streamId  the stream's id, also the last segment of {@link #url()}
 * @param moduleId  null for a device stream
 * @param url       the {@code wss://} URL both ends connect to
 * @param authToken the bearer token the device's end presents; URL-safe
 * @param serviceAuthToken the one the service's end presents, handed to the service once the device accepts
 */
public record StreamRequest(String requestId, String streamId, String deviceId, String moduleId, String streamName,
                            String url, String authToken, String serviceAuthToken) {
}
