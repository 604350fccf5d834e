package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The proxies keep running across a restart of the hub or of a stand-alone gateway (same ports, same data
 * directory): they reconnect by themselves, a tunnel session resumes with its open connection intact, and new
 * connections work.
 */
class HubRestartTest {
    /** The device's backoff is at most 10 s, a tunnel's resume at most 5 s, and a restart takes a few seconds. */
    private static final Duration RECOVERY = Duration.ofSeconds(60);

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
                Proxies.await(() -> proxies.device.isConnectedToHub(), "the device proxy reconnected", RECOVERY);
                echo(proxies, "after the restart");
            }
        } finally {
            proxies.close();
        }
    }

    /** The device proxy runs MQTT over WebSockets here, so that transport's reconnect is covered too. */
    @Test
    void aTunnelSessionAndItsConnectionSurviveAHubRestart() throws Exception {
        HubConfig config = HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withPorts(freePort(), freePort(), 0);
        StreamTestHub first = new StreamTestHub(config);
        Proxies proxies = new Proxies(first, "tunnel-restart-device", "echo", Map.of(), true,
                MqttTransport.MQTT_WS, ServiceProxy.Mode.TUNNEL, Duration.ofSeconds(20));
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            open.setSoTimeout(30_000);
            echo(open, "before the restart");
            first.close();
            Proxies.await(() -> !proxies.device.isConnectedToHub(), "the device proxy noticed the hub went away");

            try (StreamTestHub second = new StreamTestHub(config)) {
                Proxies.await(() -> proxies.device.isConnectedToHub(), "the device proxy reconnected", RECOVERY);
                // Read with a long timeout: the service proxy resumes the session as soon as the device is back.
                echo(open, "on the connection opened before the restart");
                assertEquals(1, proxies.device.tunnelSessions(), "the session was resumed, not replaced");
                echo(proxies, "on a new connection after the restart");
            }
        } finally {
            proxies.close();
        }
    }

    @Test
    void aTunnelSessionAndItsConnectionSurviveAStandaloneGatewayRestart() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        SslContext gatewayTls = SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile())
                .build();
        InetSocketAddress gatewayAddress = new InetSocketAddress("127.0.0.1", freePort());
        StandaloneGateway gateway = StandaloneGateway.start(gatewayAddress, gatewayTls, GatewayConfig.defaults(key));
        try (StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withStreamGatewayUrl("wss://localhost:" + gatewayAddress.getPort()));
             Proxies proxies = new Proxies(hub, "gateway-restart-device", "echo", Map.of(), true,
                     MqttTransport.MQTT, ServiceProxy.Mode.TUNNEL, Duration.ofSeconds(20));
             Socket open = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            open.setSoTimeout(30_000);
            echo(open, "before the restart");
            assertEquals(1, gateway.gateway().openCount());
            gateway.close();
            gateway = StandaloneGateway.start(gatewayAddress, gatewayTls, GatewayConfig.defaults(key));

            echo(open, "on the connection opened before the restart");
            assertEquals(1, proxies.device.tunnelSessions(), "the session was resumed, not replaced");
            assertEquals(1, gateway.gateway().openCount(), "the resumed link goes through the new gateway");
            echo(proxies, "on a new connection after the restart");
        } finally {
            gateway.close();
        }
    }

    private static void echo(Proxies proxies, String text) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            echo(socket, text);
        }
    }

    private static void echo(Socket socket, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        socket.getOutputStream().write(bytes);
        assertArrayEquals(bytes, socket.getInputStream().readNBytes(bytes.length));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
