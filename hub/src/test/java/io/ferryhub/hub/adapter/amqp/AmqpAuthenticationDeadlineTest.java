package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.transport.Close;
import org.apache.qpid.proton.amqp.transport.Open;
import org.apache.qpid.proton.engine.Sender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections that never authenticate are closed at the hub's one authentication deadline (2 s here), whichever
 * protocol and transport and however far they got: TLS only, after the SASL header, SASL ANONYMOUS without a CBS
 * token, over WebSocket, MQTT without CONNECT. One that authenticates stays.
 */
class AmqpAuthenticationDeadlineTest {
    private static final Duration DEADLINE = Duration.ofSeconds(2);
    /** Generous: well past the deadline on a loaded machine, well short of anything that would close them anyway. */
    private static final long CLOSED_WITHIN_MILLIS = 20_000;
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withAuthenticationTimeout(DEADLINE));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static SSLSocket tlsSocket(int port) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port);
        socket.startHandshake();
        socket.setSoTimeout(100);
        return socket;
    }

    /** Milliseconds until the hub closed the socket (reading and dropping what it sends), or -1 if it did not. */
    private static long millisUntilClosed(SSLSocket socket, long since) {
        byte[] buffer = new byte[4096];
        while (System.currentTimeMillis() - since < CLOSED_WITHIN_MILLIS) {
            try {
                InputStream in = socket.getInputStream();
                if (in.read(buffer) < 0) {
                    return System.currentTimeMillis() - since;
                }
            } catch (SocketTimeoutException idle) {
                // still open
            } catch (IOException reset) {
                return System.currentTimeMillis() - since;
            }
        }
        return -1;
    }

    private static void assertClosedAtTheDeadline(long millis, String what) {
        assertTrue(millis >= 0, what + ": still open after " + CLOSED_WITHIN_MILLIS + " ms");
        assertTrue(millis >= DEADLINE.toMillis() - 500, what + ": closed after " + millis + " ms, before the deadline");
    }

    @Test
    void aTlsOnlyAmqpConnectionIsClosedAtTheDeadline() throws Exception {
        long start = System.currentTimeMillis();
        try (SSLSocket socket = tlsSocket(hub.amqpPort())) {
            assertClosedAtTheDeadline(millisUntilClosed(socket, start), "TLS only");
        }
    }

    @Test
    void anAmqpConnectionStoppingAfterTheSaslHeaderIsClosedAtTheDeadline() throws Exception {
        long start = System.currentTimeMillis();
        try (SSLSocket socket = tlsSocket(hub.amqpPort())) {
            socket.getOutputStream().write(RawAmqpPeer.SASL_HEADER);
            socket.getOutputStream().flush();
            assertClosedAtTheDeadline(millisUntilClosed(socket, start), "after the SASL header");
        }
    }

    @Test
    void anonymousSaslWithoutATokenIsToldItIsUnauthorizedAndClosed() throws Exception {
        long start = System.currentTimeMillis();
        try (RawAmqpPeer peer = new RawAmqpPeer(tls, hub.amqpPort(), null)) {
            peer.openAnonymously();
            assertNotNull(peer.await(Open.class, CLOSED_WITHIN_MILLIS), "the hub opens the connection");
            Close close = peer.await(Close.class, CLOSED_WITHIN_MILLIS);
            assertNotNull(close, "the hub closes the connection with a reason");
            assertNotNull(close.getError());
            assertEquals(AmqpErrors.UNAUTHORIZED, close.getError().getCondition());
            assertTrue(close.getError().getDescription().contains("not authenticated within 2 s"),
                    close.getError().getDescription());
            assertTrue(peer.awaitEndOfStream(CLOSED_WITHIN_MILLIS), "the hub closes the socket after its CLOSE");
            assertTrue(System.currentTimeMillis() - start >= DEADLINE.toMillis() - 500);
        }
    }

    @Test
    void anAmqpOverWebSocketConnectionIsClosedAtTheDeadline() throws Exception {
        long start = System.currentTimeMillis();
        try (SSLSocket socket = tlsSocket(hub.httpsPort())) {
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET /$iothub/websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: AMQPWSB10\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
            // one masked binary frame with the SASL protocol header, then nothing
            out.write(new byte[]{(byte) 0x82, (byte) 0x88, 0, 0, 0, 0, 'A', 'M', 'Q', 'P', 3, 1, 0, 0});
            out.flush();
            socket.setSoTimeout(100);
            assertClosedAtTheDeadline(millisUntilClosed(socket, start), "AMQP over WebSocket");
        }
    }

    @Test
    void anMqttConnectionWithoutConnectIsClosedAtTheSameDeadline() throws Exception {
        long start = System.currentTimeMillis();
        try (SSLSocket socket = tlsSocket(hub.mqttPort())) {
            assertClosedAtTheDeadline(millisUntilClosed(socket, start), "MQTT without CONNECT");
        }
    }

    @Test
    void aConnectionWithACbsTokenOutlivesTheDeadline() throws Exception {
        String key = HubTestSupport.register(hub, "deadline-d1");
        try (ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null)) {
            assertTrue(c.awaitOpen());
            assertEquals(200, c.putToken(hub.hostName() + "/devices/deadline-d1",
                    HubTestSupport.deviceToken(hub, "deadline-d1", key)));
            long pastDeadline = System.currentTimeMillis() + 3 * DEADLINE.toMillis();
            c.pumpUntil(() -> System.currentTimeMillis() > pastDeadline);
            Sender events = c.openSender("/devices/deadline-d1/messages/events");
            assertInstanceOf(Accepted.class, c.send(events, ProtonClient.message("still here")));
        }
        assertEquals(1, HubTestSupport.eventsOf(hub, "deadline-d1").size());
    }
}
