package io.ferryhub.gateway;

import java.time.Duration;

/**
 * The streaming gateway's settings.
 *
 * @param tokenKey            the key stream tokens are signed with (shared with the hub that issues them)
 * @param handshakeTimeout    how long the first end of a stream waits for the second
 * @param idleTimeout         a paired stream that moves no byte for this long is closed; zero for never
 * @param maxStreamsPerDevice concurrent streams (waiting or relaying) per device or module
 * @param maxStreams          concurrent streams in total
 * @param maxFramePayload     the largest WebSocket frame accepted, in bytes (bounds memory per connection)
 */
public record GatewayConfig(byte[] tokenKey, Duration handshakeTimeout, Duration idleTimeout,
                            int maxStreamsPerDevice, int maxStreams, int maxFramePayload) {
    public GatewayConfig {
        if (tokenKey == null || tokenKey.length < 16) {
            throw new IllegalArgumentException("the stream token key must be at least 16 bytes");
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive");
        }
        if (maxStreamsPerDevice < 1 || maxStreams < 1) {
            throw new IllegalArgumentException("stream limits must be at least 1");
        }
        tokenKey = tokenKey.clone();
    }

    public static GatewayConfig defaults(byte[] tokenKey) {
        return new GatewayConfig(tokenKey, Duration.ofSeconds(60), Duration.ofMinutes(30), 100, 10_000,
                256 * 1024);
    }

    public GatewayConfig withHandshakeTimeout(Duration timeout) {
        return new GatewayConfig(tokenKey, timeout, idleTimeout, maxStreamsPerDevice, maxStreams, maxFramePayload);
    }

    public GatewayConfig withIdleTimeout(Duration timeout) {
        return new GatewayConfig(tokenKey, handshakeTimeout, timeout, maxStreamsPerDevice, maxStreams,
                maxFramePayload);
    }

    public GatewayConfig withLimits(int perDevice, int total) {
        return new GatewayConfig(tokenKey, handshakeTimeout, idleTimeout, perDevice, total, maxFramePayload);
    }
}
