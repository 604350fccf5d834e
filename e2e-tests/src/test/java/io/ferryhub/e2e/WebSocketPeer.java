package io.ferryhub.e2e;

import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** One end of a stream played by Java-WebSocket, with the bearer header the SDK samples send. */
final class WebSocketPeer extends WebSocketClient {
    final BlockingQueue<ByteBuffer> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();

    private WebSocketPeer(URI url, String token) {
        super(url, Map.of("Authorization", "Bearer " + token));
    }

    static WebSocketPeer connect(URI url, String token, SSLContext tls) throws InterruptedException {
        WebSocketPeer peer = new WebSocketPeer(url, token);
        peer.setSocketFactory(tls.getSocketFactory());
        if (!peer.connectBlocking(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("WebSocket to " + url + " refused");
        }
        return peer;
    }

    /** Exactly {@code n} bytes, from however many frames they came in. */
    byte[] read(int n) throws InterruptedException {
        ByteBuffer out = ByteBuffer.allocate(n);
        while (out.hasRemaining()) {
            ByteBuffer next = received.poll(30, TimeUnit.SECONDS);
            if (next == null) {
                throw new IllegalStateException("stalled after " + out.position() + " of " + n + " bytes");
            }
            out.put(next);
        }
        return out.array();
    }

    @Override
    public void onOpen(ServerHandshake handshake) {
    }

    @Override
    public void onMessage(String message) {
        received.add(ByteBuffer.wrap(message.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Override
    public void onMessage(ByteBuffer bytes) {
        received.add(bytes);
    }

    @Override
    public void onClose(int code, String reason, boolean remote) {
        closed.complete(code);
    }

    @Override
    public void onError(Exception ex) {
    }
}
