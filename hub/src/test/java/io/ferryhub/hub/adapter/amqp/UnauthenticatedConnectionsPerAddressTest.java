package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.testsupport.Await;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One remote address may hold only so many unauthenticated connections (3 here) over all the hub's MQTT and AMQP
 * listeners; further ones are closed at once, other addresses are served, and a connection that authenticates
 * frees its place.
 */
class UnauthenticatedConnectionsPerAddressTest {
    private static final int BOUND = 3;
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;
    static InetAddress crowded;
    static InetAddress other;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withMaxUnauthenticatedPerAddress(BOUND));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
        crowded = InetAddress.getByName("127.0.0.1");
        other = InetAddress.getByName("127.0.0.2");
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    /** A TLS connection from {@code local} that sends the AMQP SASL header and nothing else. */
    private static SSLSocket unauthenticated(int port, InetAddress local) throws IOException {
        SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port,
                local, 0);
        socket.startHandshake();
        socket.getOutputStream().write(RawAmqpPeer.SASL_HEADER);
        socket.getOutputStream().flush();
        return socket;
    }

    /** Whether the hub closes a new connection from {@code local} at once (before or right after TLS). */
    private static boolean refused(int port, InetAddress local) {
        try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                port, local, 0)) {
            socket.setSoTimeout(3_000);
            socket.startHandshake();
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException closed) {
            return true;
        }
    }

    /** Polls {@code refused} until it answers {@code expected}, within a generous deadline. */
    private static boolean eventually(boolean expected, int port, InetAddress local) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            if (refused(port, local) == expected) {
                return true;
            }
        }
        return false;
    }

    @Test
    void anAddressAtTheBoundIsRefusedOnEveryListenerWhileOthersAreServed() throws Exception {
        String key = HubTestSupport.register(hub, "bound-d1");
        List<SSLSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < BOUND; i++) {
                held.add(unauthenticated(hub.amqpPort(), crowded));
            }
            assertTrue(refused(hub.amqpPort(), crowded), "a 4th unauthenticated AMQP connection is refused");
            assertTrue(refused(hub.mqttPort(), crowded), "and so is one to the MQTT listener");
            assertFalse(refused(hub.amqpPort(), other), "another address is not affected");

            // a device on another address is served meanwhile
            try (ProtonClient device = new ProtonClient(tls, hub.amqpPort(), other, ProtonClient.SaslMode.ANONYMOUS,
                    null, null)) {
                assertTrue(device.awaitOpen());
                assertEquals(200, device.putToken(hub.hostName() + "/devices/bound-d1",
                        HubTestSupport.deviceToken(hub, "bound-d1", key)));
                assertInstanceOf(Accepted.class, device.send(device.openSender("/devices/bound-d1/messages/events"),
                        ProtonClient.message("served")));
            }

            // one of them goes away: its place is free again, and a connection that authenticates leaves its place
            held.remove(0).close();
            assertTrue(eventually(false, hub.amqpPort(), crowded), "a closed connection frees its place");
            // the probe that saw the place free held it until it closed: connect once the hub has let go of it too
            ProtonClient connected = Await.value(Duration.ofSeconds(20), () -> {
                try {
                    return new ProtonClient(tls, hub.amqpPort(), crowded, ProtonClient.SaslMode.ANONYMOUS, null, null);
                } catch (IOException probeStillCounted) {
                    return null;
                }
            });
            assertNotNull(connected, "the freed place was never free for a device");
            try (ProtonClient device = connected) {
                assertTrue(device.awaitOpen());
                assertEquals(200, device.putToken(hub.hostName() + "/devices/bound-d1",
                        HubTestSupport.deviceToken(hub, "bound-d1", key)));
                assertInstanceOf(Accepted.class, device.send(device.openSender("/devices/bound-d1/messages/events"),
                        ProtonClient.message("authenticated")));
                held.add(unauthenticated(hub.amqpPort(), crowded)); // the third again, beside the device
                assertTrue(eventually(true, hub.amqpPort(), crowded), "the bound holds again");
                assertInstanceOf(Accepted.class, device.send(device.openSender("/devices/bound-d1/messages/events"),
                        ProtonClient.message("still served")));
            }
        } finally {
            for (SSLSocket socket : held) {
                socket.close();
            }
        }
        assertEquals(3, HubTestSupport.eventsOf(hub, "bound-d1").size());
    }
}
