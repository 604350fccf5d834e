package io.ferryhub.e2e;

import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.PercentEncoding;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.gateway.UsedStreamTokens;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stream token works once, also across a restart: after the hub (with its embedded gateway) or a stand-alone
 * gateway restarts on the same state, a token used before is refused exactly as it was before the restart, though
 * it has not expired and its signature is still good.
 */
class StreamTokenReuseAfterRestartTest {
    @TempDir
    Path dataDir;
    @TempDir
    Path gatewayState;

    /** The two tokens of one stream and where they are presented. */
    private record Stream(URI url, String deviceToken, String serviceToken) {
    }

    @Test
    void aTokenUsedBeforeAHubRestartIsRefusedAfterIt() throws Exception {
        HubConfig config = HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withPorts(freePort(), freePort(), 0);
        Stream stream;
        String refusedBefore;
        ConnectionString device;
        try (StreamTestHub hub = new StreamTestHub(config)) {
            device = hub.createDevice("reuse-device");
            stream = newStream(hub, device);
            useAndLeave(stream.url(), stream.serviceToken(), hub.jdkTls);
            Proxies.await(() -> hub.hub.streamGateway().openCount() == 0, "the stream ended");
            refusedBefore = upgrade(stream.url(), stream.serviceToken(), hub.jdkTls);
            assertTrue(refusedBefore.startsWith("HTTP/1.1 409 "), refusedBefore);
            assertTrue(refusedBefore.contains("already has both ends (or has ended)"), refusedBefore);
        }
        try (StreamTestHub hub = new StreamTestHub(config)) {
            assertEquals(refusedBefore, upgrade(stream.url(), stream.serviceToken(), hub.jdkTls),
                    "the used token is refused after the restart as before it");
            // the stream's other token too: its stream cannot be opened again
            assertEquals(refusedBefore, upgrade(stream.url(), stream.deviceToken(), hub.jdkTls));
            // and a new stream's tokens still work
            Stream fresh = newStream(hub, device);
            useAndLeave(fresh.url(), fresh.deviceToken(), hub.jdkTls);
        }
    }

    @Test
    void aTokenUsedBeforeAStandaloneGatewayRestartIsRefusedAfterIt() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        SslContext gatewayTls = SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile())
                .build();
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", freePort());
        Path usedFile = gatewayState.resolve("used-stream-tokens");
        try (StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withStreamGatewayUrl("wss://localhost:" + address.getPort()))) {
            Stream stream = newStream(hub, hub.createDevice("gateway-reuse-device"));
            String refusedBefore;
            try (UsedStreamTokens used = UsedStreamTokens.open(usedFile, Clock.systemUTC());
                 StandaloneGateway gateway = StandaloneGateway.start(address, gatewayTls, GatewayConfig.defaults(key),
                         used)) {
                useAndLeave(stream.url(), stream.serviceToken(), hub.jdkTls);
                Proxies.await(() -> gateway.gateway().openCount() == 0, "the stream ended");
                refusedBefore = upgrade(stream.url(), stream.serviceToken(), hub.jdkTls);
                assertTrue(refusedBefore.startsWith("HTTP/1.1 409 "), refusedBefore);
            }
            try (UsedStreamTokens used = UsedStreamTokens.open(usedFile, Clock.systemUTC());
                 StandaloneGateway gateway = StandaloneGateway.start(address, gatewayTls, GatewayConfig.defaults(key),
                         used)) {
                assertEquals(refusedBefore, upgrade(stream.url(), stream.serviceToken(), hub.jdkTls),
                        "the used token is refused after the gateway's restart as before it");
                assertEquals(refusedBefore, upgrade(stream.url(), stream.deviceToken(), hub.jdkTls));
            }
        }
    }

    /** A stream the device accepts: its URL and both tokens, valid for the handshake window (a minute). */
    private static Stream newStream(StreamTestHub hub, ConnectionString device) throws Exception {
        String deviceId = device.deviceId().orElseThrow();
        try (PahoDevice paho = new PahoDevice(device, hub.mqttPort(), hub.jdkTls)) {
            CompletableFuture<HttpResponse<String>> posted = CompletableFuture.supplyAsync(() -> {
                try {
                    return hub.initiate("/twins/" + deviceId + "/streams/ssh", hub.serviceToken("service"), "5",
                            "30");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Map<String, String> request = query(paho.nextRequest());
            paho.answer(request.get("$rid"), 200);
            HttpResponse<String> response = posted.get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
            return new Stream(URI.create(PercentEncoding.decode(request.get("$url"))), request.get("$auth"),
                    response.headers().firstValue("iothub-streaming-auth-token").orElseThrow());
        }
    }

    /** Presents the token, checks that the WebSocket upgrade succeeds, and leaves. */
    private static void useAndLeave(URI url, String token, SSLContext tls) throws IOException {
        try (SSLSocket socket = connect(url, tls)) {
            sendUpgrade(socket, url, token);
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        }
    }

    /** Presents the token and returns the whole refusal (status line, headers, body) the gateway answers with. */
    private static String upgrade(URI url, String token, SSLContext tls) throws IOException {
        try (SSLSocket socket = connect(url, tls)) {
            sendUpgrade(socket, url, token);
            String head = readHead(socket.getInputStream());
            assertFalse(head.startsWith("HTTP/1.1 101 "), "the token was accepted again: " + head);
            return head + new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static SSLSocket connect(URI url, SSLContext tls) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(url.getHost(), url.getPort());
        socket.setSoTimeout(20_000);
        return socket;
    }

    private static void sendUpgrade(SSLSocket socket, URI url, String token) throws IOException {
        byte[] nonce = new byte[16];
        new java.security.SecureRandom().nextBytes(nonce);
        String request = "GET " + url.getRawPath() + " HTTP/1.1\r\n"
                + "Host: " + url.getHost() + ":" + url.getPort() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static Map<String, String> query(String topic) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : topic.substring(topic.indexOf('?') + 1).split("&")) {
            int eq = pair.indexOf('=');
            fields.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return fields;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
