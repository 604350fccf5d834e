package io.ferryhub.gateway;

import io.ferryhub.common.websocket.FinalClose;
import io.ferryhub.signaling.StreamToken;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamGatewayTest {
    private GatewayFixture fixture;

    @BeforeEach
    void start() throws Exception {
        fixture = new GatewayFixture();
    }

    @AfterEach
    void stop() {
        fixture.close();
    }

    @Test
    void relaysBinaryAndTextFramesBothWaysAndCountsBytes() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer device = fixture.connect(token);
        GatewayFixture.Peer service = fixture.connect(token);
        assertEquals(101, device.handshakeStatus);
        assertEquals(101, service.handshakeStatus);

        byte[] payload = new byte[50_000];
        new Random(1).nextBytes(payload);
        service.send(payload);
        assertArrayEquals(payload, bytes(receive(device, payload.length)));
        device.send("hello from the device");
        assertEquals("hello from the device",
                new String(bytes(receive(service, 21)), StandardCharsets.UTF_8));

        StreamInfo info = fixture.gateway().stream(token.streamId()).orElseThrow();
        assertEquals("relaying", info.state());
        assertEquals("dev1", info.deviceId());
        assertEquals(21, info.bytesFirstToSecond());
        assertEquals(50_000, info.bytesSecondToFirst());
        assertTrue(info.bytesSentBy(StreamToken.Side.SERVICE).isEmpty(), "a token naming no side");

        service.closeBlocking();
        assertEquals(1000, device.closed.get(30, TimeUnit.SECONDS));
        awaitNoStreams();
    }

    @Test
    void joinsTheTwoEndsOfAStreamOnOneEventLoop() throws Exception {
        // Two connections accepted one after the other land on different loops of the gateway's group; relayed
        // across loops, every read batch would be handed to the other thread. The second end moves to the first's.
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer device = fixture.connect(token);
        GatewayFixture.Peer service = fixture.connect(token);
        service.send("ping".getBytes(StandardCharsets.UTF_8));
        assertEquals("ping", new String(bytes(receive(device, 4)), StandardCharsets.UTF_8));
        assertTrue(fixture.gateway().endsShareALoop(token.streamId()), "both ends on one event loop");
        device.send("pong".getBytes(StandardCharsets.UTF_8));
        assertEquals("pong", new String(bytes(receive(service, 4)), StandardCharsets.UTF_8));

        service.closeBlocking();
        assertEquals(1000, device.closed.get(30, TimeUnit.SECONDS));
        awaitNoStreams();
    }

    @Test
    void relaysManyFramesInOrderWithoutLoss() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer a = fixture.connect(token);
        GatewayFixture.Peer b = fixture.connect(token);
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        Random random = new Random(2);
        int total = 0;
        for (int i = 0; i < 400; i++) {
            byte[] chunk = new byte[1 + random.nextInt(40_000)];
            random.nextBytes(chunk);
            sent.update(chunk);
            total += chunk.length;
            a.send(chunk);
        }
        MessageDigest got = MessageDigest.getInstance("SHA-256");
        for (int n = 0; n < total; ) {
            ByteBuffer buf = b.received.poll(30, TimeUnit.SECONDS);
            assertNotNull(buf, "stalled after " + n + " of " + total + " bytes");
            n += buf.remaining();
            got.update(buf);
        }
        assertArrayEquals(sent.digest(), got.digest());
        assertEquals(total, fixture.gateway().stream(token.streamId()).orElseThrow().bytesFirstToSecond());
        a.closeBlocking();
        b.closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void refusesAThirdConnection() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer a = fixture.connect(token);
        GatewayFixture.Peer b = fixture.connect(token);
        assertEquals(409, rawUpgradeStatus(token.sign(GatewayFixture.KEY), fixture.url(token).getPath(), null)
                .status);
        a.send("still relaying");
        assertEquals("still relaying", new String(bytes(receive(b, 14)), StandardCharsets.UTF_8));
        a.closeBlocking();
        b.closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void takesOneEndPerSide() throws Exception {
        StreamToken device = GatewayFixture.newStream("dev1").forSide(StreamToken.Side.DEVICE);
        GatewayFixture.Peer a = fixture.connect(device);
        Upgrade again = rawUpgradeStatus(device.sign(GatewayFixture.KEY), fixture.url(device).getPath(), null);
        assertEquals(409, again.status);
        assertTrue(again.text.contains("already has its device end"), again.text);
        GatewayFixture.Peer b = fixture.connect(device.forSide(StreamToken.Side.SERVICE));
        b.send("from the service");
        assertEquals("from the service", new String(bytes(receive(a, 16)), StandardCharsets.UTF_8));
        a.closeBlocking();
        b.closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void countsBytesByDeviceAndServiceWhicheverConnectsFirst() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer service = fixture.connect(token.forSide(StreamToken.Side.SERVICE));
        GatewayFixture.Peer device = fixture.connect(token.forSide(StreamToken.Side.DEVICE));
        service.send("from the service");
        assertEquals("from the service", new String(bytes(receive(device, 16)), StandardCharsets.UTF_8));
        device.send("device!");
        assertEquals("device!", new String(bytes(receive(service, 7)), StandardCharsets.UTF_8));

        StreamInfo info = fixture.gateway().stream(token.streamId()).orElseThrow();
        assertEquals(StreamToken.Side.SERVICE, info.firstSide());
        assertEquals(16, info.bytesFirstToSecond());
        assertEquals(7, info.bytesSentBy(StreamToken.Side.DEVICE).orElseThrow());
        assertEquals(16, info.bytesSentBy(StreamToken.Side.SERVICE).orElseThrow());
        device.closeBlocking();
        service.closed.get(30, TimeUnit.SECONDS);
    }

    @Test
    void refusesAReusedTokenAfterTheStreamEnded() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer a = fixture.connect(token);
        GatewayFixture.Peer b = fixture.connect(token);
        a.closeBlocking();
        b.closed.get(30, TimeUnit.SECONDS);
        awaitNoStreams();
        assertEquals(409, rawUpgradeStatus(token.sign(GatewayFixture.KEY), fixture.url(token).getPath(), null)
                .status);
    }

    @Test
    void refusesAnUpgradeWithoutAWebSocketKeyAndKeepsNoReservation() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        Upgrade answer = rawUpgrade(token.sign(GatewayFixture.KEY), fixture.url(token).getPath(), null, false);
        assertEquals(400, answer.status);
        assertEquals(0, fixture.gateway().openCount());
    }

    @Test
    void refusesAWrongSignature() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        String forged = token.sign("another key, another key, 123456".getBytes(StandardCharsets.US_ASCII));
        Upgrade answer = rawUpgradeStatus(forged, fixture.url(token).getPath(), null);
        assertEquals(401, answer.status);
        assertTrue(answer.text.contains("signature does not match"), answer.text);
    }

    @Test
    void refusesAMissingToken() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        Upgrade answer = rawUpgradeStatus(null, fixture.url(token).getPath(), null);
        assertEquals(401, answer.status);
        assertTrue(answer.text.contains("no stream token"), answer.text);
    }

    @Test
    void refusesAnExpiredToken() throws Exception {
        StreamToken token = new StreamToken("0123456789abcdef0123456789abcdef", GatewayFixture.HUB, "dev1", null,
                "ssh", "service", Instant.now().minusSeconds(1), null, StreamToken.Side.DEVICE);
        Upgrade answer = rawUpgradeStatus(token.sign(GatewayFixture.KEY), fixture.url(token).getPath(), null);
        assertEquals(401, answer.status);
        assertTrue(answer.text.contains("expired"), answer.text);
    }

    @Test
    void refusesTheTokenOfAnotherStream() throws Exception {
        StreamToken mine = GatewayFixture.newStream("dev1");
        StreamToken other = GatewayFixture.newStream("dev1");
        Upgrade answer = rawUpgradeStatus(other.sign(GatewayFixture.KEY), fixture.url(mine).getPath(), null);
        assertEquals(401, answer.status);
        assertTrue(answer.text.contains("another stream"), answer.text);
    }

    @Test
    void echoesOnlyTheTunnelSubProtocol() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        Upgrade answer = rawUpgradeStatus(token.sign(GatewayFixture.KEY), fixture.url(token).getPath(), "MQTT");
        assertEquals(101, answer.status);
        assertFalse(answer.text.toLowerCase().contains("sec-websocket-protocol"), answer.text);

        StreamToken other = GatewayFixture.newStream("dev1");
        Upgrade tunnel = rawUpgradeStatus(other.sign(GatewayFixture.KEY), fixture.url(other).getPath(),
                "MQTT, " + StreamGateway.TUNNEL_SUBPROTOCOL);
        assertEquals(101, tunnel.status);
        assertTrue(tunnel.text.toLowerCase().contains("sec-websocket-protocol: " + StreamGateway.TUNNEL_SUBPROTOCOL),
                tunnel.text);
    }

    @Test
    void closesTheFirstEndWhenTheSecondNeverComes() throws Exception {
        fixture.close();
        fixture = new GatewayFixture(GatewayConfig.defaults(GatewayFixture.KEY)
                .withHandshakeTimeout(Duration.ofMillis(300)));
        GatewayFixture.Peer lonely = fixture.connect(GatewayFixture.newStream("dev1"));
        assertEquals(1001, lonely.closed.get(30, TimeUnit.SECONDS));
        awaitNoStreams();
    }

    @Test
    void closesAPairedStreamThatStaysIdle() throws Exception {
        fixture.close();
        fixture = new GatewayFixture(GatewayConfig.defaults(GatewayFixture.KEY)
                .withIdleTimeout(Duration.ofMillis(300)));
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer a = fixture.connect(token);
        GatewayFixture.Peer b = fixture.connect(token);
        assertEquals(1001, a.closed.get(30, TimeUnit.SECONDS));
        assertEquals(1001, b.closed.get(30, TimeUnit.SECONDS));
        awaitNoStreams();
    }

    @Test
    void enforcesTheConcurrentStreamLimitPerDevice() throws Exception {
        fixture.close();
        fixture = new GatewayFixture(GatewayConfig.defaults(GatewayFixture.KEY).withLimits(1, 10));
        GatewayFixture.Peer first = fixture.connect(GatewayFixture.newStream("dev1"));
        StreamToken second = GatewayFixture.newStream("dev1");
        Upgrade answer = rawUpgradeStatus(second.sign(GatewayFixture.KEY), fixture.url(second).getPath(), null);
        assertEquals(429, answer.status);
        GatewayFixture.Peer otherDevice = fixture.connect(GatewayFixture.newStream("dev2"));
        assertEquals(101, otherDevice.handshakeStatus);
        first.closeBlocking();
        otherDevice.closeBlocking();
    }

    @Test
    void closesAStreamOnRequest() throws Exception {
        StreamToken token = GatewayFixture.newStream("dev1");
        GatewayFixture.Peer a = fixture.connect(token);
        GatewayFixture.Peer b = fixture.connect(token);
        assertTrue(fixture.gateway().close(token.streamId(), "closed by the operator"));
        // the status that tells the proxies not to resume a tunnel session over a new stream
        assertEquals(FinalClose.CLOSED_BY_OPERATOR, a.closed.get(30, TimeUnit.SECONDS));
        assertEquals(FinalClose.CLOSED_BY_OPERATOR, b.closed.get(30, TimeUnit.SECONDS));
        assertFalse(fixture.gateway().close(token.streamId(), "again"));
    }

    private static StreamToken byInitiatorKey(String device, String initiator, String keyId) {
        return new StreamToken(java.util.UUID.randomUUID().toString().replace("-", ""), GatewayFixture.HUB, device,
                null, "ssh", initiator, Instant.now().plusSeconds(60), null, null, keyId);
    }

    @Test
    void aRevokedInitiatorKeyClosesTheStreamsItAskedForAndRefusesItsTokens() throws Exception {
        StreamToken revoked = byInitiatorKey("dev-keys", "team-a", "key-1");
        StreamToken otherKey = byInitiatorKey("dev-keys", "team-a", "key-2");
        StreamToken otherPolicy = byInitiatorKey("dev-keys", "team-b", "key-1");
        StreamToken notYetUsed = byInitiatorKey("dev-other", "team-a", "key-1");
        GatewayFixture.Peer a = fixture.connect(revoked);
        GatewayFixture.Peer b = fixture.connect(revoked);
        GatewayFixture.Peer spared1 = fixture.connect(otherKey);
        fixture.connect(otherKey);
        GatewayFixture.Peer spared2 = fixture.connect(otherPolicy);
        fixture.connect(otherPolicy);
        Await.within(Duration.ofSeconds(30), () -> fixture.gateway().streams().size() == 3);

        assertEquals(1, fixture.gateway().revoke(io.ferryhub.signaling.StreamRevocation.initiatorKeys(1, "team-a",
                java.util.Set.of("key-1"), Instant.now())));

        assertEquals(FinalClose.REVOKED, a.closed.get(30, TimeUnit.SECONDS));
        assertEquals(FinalClose.REVOKED, b.closed.get(30, TimeUnit.SECONDS));
        Await.within(Duration.ofSeconds(30), () -> fixture.gateway().streams().size() == 2);
        assertEquals(java.util.Set.of(otherKey.streamId(), otherPolicy.streamId()), fixture.gateway().streams()
                .stream().map(StreamInfo::streamId).collect(java.util.stream.Collectors.toSet()));
        assertFalse(spared1.closed.isDone());
        assertFalse(spared2.closed.isDone());
        // a token the key signed earlier, for a stream not opened yet, is refused as a revoked credential
        Upgrade refused = rawUpgradeStatus(notYetUsed.sign(GatewayFixture.KEY), fixture.url(notYetUsed).getPath(),
                null);
        assertEquals(401, refused.status(), refused.text());
        assertTrue(refused.text().contains("the stream's token was revoked"), refused.text());
    }

    private void awaitNoStreams() throws InterruptedException {
        Await.within(Duration.ofSeconds(30), () -> fixture.gateway().openCount() == 0);
        assertEquals(0, fixture.gateway().openCount());
        assertTrue(fixture.gateway().streams().isEmpty());
    }

    private static ByteBuffer receive(GatewayFixture.Peer peer, int bytes) throws InterruptedException {
        ByteBuffer out = ByteBuffer.allocate(bytes);
        while (out.hasRemaining()) {
            ByteBuffer next = peer.received.poll(30, TimeUnit.SECONDS);
            assertNotNull(next, "nothing received");
            out.put(next);
        }
        return out.flip();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }

    private record Upgrade(int status, String text) {
    }

    /** A hand-written upgrade request, to see the gateway's exact answer (status line and headers). */
    private Upgrade rawUpgradeStatus(String bearer, String path, String subProtocol) throws Exception {
        return rawUpgrade(bearer, path, subProtocol, true);
    }

    private Upgrade rawUpgrade(String bearer, String path, String subProtocol, boolean withKey) throws Exception {
        try (SSLSocket socket = (SSLSocket) fixture.clientTls.getSocketFactory()
                .createSocket("localhost", fixture.server.port())) {
            socket.setSoTimeout(10_000);
            StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\n")
                    .append("Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
                    .append("Sec-WebSocket-Version: 13\r\n");
            if (withKey) {
                request.append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
            }
            if (bearer != null) {
                request.append("Authorization: Bearer ").append(bearer).append("\r\n");
            }
            if (subProtocol != null) {
                request.append("Sec-WebSocket-Protocol: ").append(subProtocol).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                head.write(c);
                String text = head.toString(StandardCharsets.US_ASCII);
                if (text.endsWith("\r\n\r\n") && text.startsWith("HTTP/1.1 101")) {
                    break;
                }
            }
            String text = head.toString(StandardCharsets.US_ASCII);
            return new Upgrade(Integer.parseInt(text.substring(9, 12)), text);
        }
    }
}
