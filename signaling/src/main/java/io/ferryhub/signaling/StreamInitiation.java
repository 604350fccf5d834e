package io.ferryhub.signaling;

/**
 * The outcome of a stream request the device answered: what the hub puts in the {@code iothub-streaming-*} response
 * headers. {@code url} and {@code authToken} are null when the device rejected the stream.
 */
public record StreamInitiation(String streamId, boolean accepted, String url, String authToken) {
}
