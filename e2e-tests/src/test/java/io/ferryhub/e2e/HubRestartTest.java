package io.ferryhub.e2e;

import io.ferryhub.hub.server.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The device proxy keeps running across a hub restart: it reconnects by itself and serves new streams. */
class HubRestartTest {
    @TempDir
    Path dataDir;

    @Test
    void theDeviceProxyReconnectsAfterAHubRestart() throws Exception {
        HubConfig config = HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withPorts(freePort(), freePort(), 0);
        StreamTestHub first = new StreamTestHub(config);
        Proxies proxies = new Proxies(first, "restart-device", "echo", Map.of(), true);
        try {
            echo(proxies, "before the restart");
            first.close();
            Proxies.await(() -> !proxies.device.isConnectedToHub(), "the device proxy noticed the hub went away");

            try (StreamTestHub second = new StreamTestHub(config)) {
                // Its backoff doubles up to 30 s, so allow for a slow restart.
                Proxies.await(() -> proxies.device.isConnectedToHub(), "the device proxy reconnected",
                        Duration.ofSeconds(60));
                echo(proxies, "after the restart");
            }
        } finally {
            proxies.close();
        }
    }

    private static void echo(Proxies proxies, String text) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            socket.getOutputStream().write(bytes);
            assertArrayEquals(bytes, socket.getInputStream().readNBytes(bytes.length));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
