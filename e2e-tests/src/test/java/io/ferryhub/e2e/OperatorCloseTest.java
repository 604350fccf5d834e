package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operator closes the stream that carries a tunnel session (DELETE /streams/{id}, as {@code iothub stream close}
 * does): both proxies end the session and close its connections, the service proxy says why at WARN, and nothing
 * comes back a second later, where a dropped link would have been resumed.
 */
class OperatorCloseTest {
    @TempDir
    Path dataDir;

    @Test
    void anOperatorsCloseEndsTheTunnelSessionOnBothProxies() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir);
             LogCapture log = new LogCapture();
             Proxies proxies = new Proxies(hub, "closed-device", "echo", Map.of(), true, MqttTransport.MQTT,
                     ServiceProxy.Mode.TUNNEL, Duration.ZERO);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            s.setSoTimeout(30_000);
            byte[] ping = new byte[10_000];
            new Random(3).nextBytes(ping);
            s.getOutputStream().write(ping);
            assertArrayEquals(ping, s.getInputStream().readNBytes(ping.length), "echoed through the session");
            JsonNode streams = proxies.hubStreams();
            assertEquals(1, streams.size(), streams.toString());
            assertEquals("ferryhub.tunnel.v1", streams.get(0).path("streamName").asText());
            String streamId = streams.get(0).path("streamId").asText();

            assertEquals(204, hub.owner("DELETE", "/streams/" + streamId, null, Map.of()).statusCode());

            s.setSoTimeout(1_000);
            assertEquals(-1, readUntilClosed(s.getInputStream(), Duration.ofSeconds(20)),
                    "the local connection was not closed");
            String warn = log.await(l -> l.contains(" WARN ") && l.contains("[service-proxy")
                    && l.contains("ended by the hub (closed by "), "at WARN from the service proxy",
                    Duration.ofSeconds(10));
            System.out.println("operator close: the service proxy logged: " + warn);
            Proxies.await(() -> proxies.device.tunnelSessions() == 0, "the device proxy kept its session");
            Proxies.await(() -> proxies.service.activeStreams() == 0, "the service proxy kept its connections");
            // a dropped link is resumed within about a second over a new stream: this one must stay gone
            boolean cameBack = Await.within(Duration.ofSeconds(3),
                    () -> !proxies.hubStreams().isEmpty() || proxies.device.tunnelSessions() != 0);
            assertFalse(cameBack, "the session came back: " + proxies.hubStreams() + ", "
                    + proxies.device.tunnelSessions() + " at the device");
            assertTrue(log.lines().stream().noneMatch(l -> l.contains("resumed over")), "resumed after the close");
        }
    }

    /** Reads until the peer closes: -1 then (or a reset, taken as closed); throws if still open at the deadline. */
    private static int readUntilClosed(InputStream in, Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        byte[] buf = new byte[4096];
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return -1;
                }
                throw new AssertionError("unexpected bytes after the close: " + Arrays.toString(
                        Arrays.copyOf(buf, Math.min(n, 16))));
            } catch (SocketTimeoutException e) {
                // still open: read again until the deadline
            } catch (SocketException reset) {
                return -1;
            }
        }
        return 0;
    }
}
