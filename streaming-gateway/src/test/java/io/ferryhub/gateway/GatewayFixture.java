package io.ferryhub.gateway;

import io.ferryhub.signaling.BridgePath;
import io.ferryhub.signaling.StreamToken;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.handshake.ServerHandshake;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/** A stand-alone gateway on an ephemeral TLS port, and Java-WebSocket peers for it. */
final class GatewayFixture implements AutoCloseable {
    static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static final String HUB = "testhub";

    final SelfSignedCertificate cert;
    final StandaloneGateway server;
    final SSLContext clientTls;

    GatewayFixture(GatewayConfig config) throws Exception {
        cert = new SelfSignedCertificate("localhost");
        SslContext tls = SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build();
        server = StandaloneGateway.start(new InetSocketAddress("127.0.0.1", 0), tls, config);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = new FileInputStream(cert.certificate())) {
            trust.setCertificateEntry("gateway", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    GatewayFixture() throws Exception {
        this(GatewayConfig.defaults(KEY).withHandshakeTimeout(Duration.ofSeconds(5)));
    }

    StreamGateway gateway() {
        return server.gateway();
    }

    /** A token for either end of a new stream: it names no side, as tokens did before they named one. */
    static StreamToken newStream(String device) {
        return new StreamToken(UUID.randomUUID().toString().replace("-", ""), HUB, device, null, "ssh", "service",
                Instant.now().plusSeconds(60), null, null);
    }

    URI url(StreamToken token) {
        return URI.create("wss://localhost:" + server.port() + BridgePath.of(token));
    }

    Peer connect(StreamToken token) throws Exception {
        return connect(url(token), token.sign(KEY));
    }

    Peer connect(URI url, String bearer) throws Exception {
        Peer peer = new Peer(url, bearer);
        peer.setSocketFactory(clientTls.getSocketFactory());
        peer.connectBlocking();
        return peer;
    }

    @Override
    public void close() {
        server.close();
        cert.delete();
    }

    /** A WebSocket end we did not write: Java-WebSocket, with the bearer header. */
    static final class Peer extends WebSocketClient {
        final BlockingQueue<ByteBuffer> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        volatile int handshakeStatus;

        Peer(URI url, String bearer) {
            super(url, Map.of("Authorization", "Bearer " + bearer));
        }

        @Override
        public void onOpen(ServerHandshake handshake) {
            handshakeStatus = handshake.getHttpStatus();
        }

        @Override
        public void onMessage(String message) {
            received.add(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
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
}
