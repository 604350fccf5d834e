package io.ferryhub.client.stream;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker13;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.URI;

/**
 * A WebSocket client handshake whose frames carry the masking key 0, for {@code wss://} only. RFC 6455 makes
 * clients mask so that a proxy reading the cleartext cannot be fooled into caching attacker-chosen bytes (section
 * 10.3); inside TLS no intermediary sees the frames, so the key protects nothing. Frames stay well-formed (mask bit
 * set, key present), and Netty's encoder, seeing a zero key, skips its XOR loop over the payload, which was most
 * of the Java CPU time of a proxy sending a stream's bytes.
 */
final class ZeroMaskHandshaker extends WebSocketClientHandshaker13 {
    ZeroMaskHandshaker(URI url, String subprotocol, HttpHeaders headers, int maxFramePayload) {
        super(url, WebSocketVersion.V13, subprotocol, false, headers, maxFramePayload, true, false, -1);
    }

    @Override
    protected WebSocketFrameEncoder newWebSocketEncoder() {
        return new WebSocket13FrameEncoder(() -> 0);
    }
}
