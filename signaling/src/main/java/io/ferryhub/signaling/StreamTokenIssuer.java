package io.ferryhub.signaling;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Makes the stream request for a new stream: the gateway URL for it and a token for each end (so the gateway knows
 * which end is the device), valid through the device's answer and then the gateway's handshake window, and no
 * longer.
 */
public final class StreamTokenIssuer {
    private final String hubName;
    private final String gatewayBaseUrl;
    private final byte[] key;
    private final Duration handshakeWindow;

    /**
     * @param gatewayBaseUrl {@code wss://host:port} of the streaming gateway (the hub's own HTTPS port when embedded)
     * @param key            the key shared with the gateway
     * @param handshakeWindow how long after the device's answer deadline both ends may still connect
     */
    public StreamTokenIssuer(String hubName, String gatewayBaseUrl, byte[] key, Duration handshakeWindow) {
        if (!gatewayBaseUrl.startsWith("wss://") && !gatewayBaseUrl.startsWith("ws://")) {
            throw new IllegalArgumentException("gateway URL must be wss://host:port, got " + gatewayBaseUrl);
        }
        this.hubName = hubName;
        this.gatewayBaseUrl = gatewayBaseUrl.endsWith("/")
                ? gatewayBaseUrl.substring(0, gatewayBaseUrl.length() - 1) : gatewayBaseUrl;
        this.key = key.clone();
        this.handshakeWindow = handshakeWindow;
    }

    StreamRequest issue(String streamId, String deviceId, String moduleId, String streamName, String initiator,
                        String initiatorKey, Instant answerDeadline, StreamPolicy grant) {
        StreamToken device = new StreamToken(streamId, hubName, deviceId, moduleId, streamName, initiator,
                answerDeadline.plus(handshakeWindow), grant, StreamToken.Side.DEVICE, initiatorKey);
        String url = gatewayBaseUrl + BridgePath.of(hubName, deviceId, moduleId, streamId);
        return new StreamRequest(UUID.randomUUID().toString(), streamId, deviceId, moduleId, streamName, url,
                device.sign(key), device.forSide(StreamToken.Side.SERVICE).sign(key));
    }
}
