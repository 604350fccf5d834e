package io.ferryhub.e2e;

import io.ferryhub.hub.server.HubConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hub's stream timeouts (iothub start --stream-handshake-timeout / --stream-idle-timeout) end streams. */
class StreamTimeoutsTest {
    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static Proxies proxies;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withStreamTimeouts(Duration.ofMillis(500), Duration.ofMillis(700)));
        proxies = new Proxies(hub, "timeout-device", "echo", Map.of(), true);
    }

    @AfterAll
    static void stop() {
        proxies.close();
        hub.close();
    }

    @Test
    void aStreamWhoseServiceEndNeverConnectsIsClosedOnTheDevice() throws Exception {
        HttpResponse<String> accepted = hub.initiate("/twins/timeout-device/streams/echo",
                hub.serviceToken("service"), "0", "10");
        assertEquals("True", accepted.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
        // Nobody opens the service end: the gateway gives up on the device's end after the handshake timeout.
        proxies.awaitIdle();
    }

    @Test
    void anIdleStreamIsClosedAtBothEnds() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(new byte[]{42});
            assertArrayEquals(new byte[]{42}, socket.getInputStream().readNBytes(1));
            assertEquals(-1, socket.getInputStream().read(), "closed for idleness");
        }
        proxies.awaitIdle();
    }
}
