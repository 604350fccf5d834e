package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Whatever keeps a connection from reaching its target, its client (ssh) only sees the connection close
 * ({@code kex_exchange_identification: Connection closed by remote host}). The service proxy says why at WARN,
 * naming the connection by its client's address and port: an unmapped stream name, a refused target, an offline
 * device, the hub's stream cap.
 */
class ConnectionFailureLogTest {
    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static LogCapture log;

    @BeforeAll
    static void start() throws Exception {
        // one stream per device at a time: a second tunnel session to a device is over the cap
        hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost").withStreamLimits(1, 100));
        log = new LogCapture();
    }

    @AfterAll
    static void stop() throws Exception {
        log.close();
        hub.close();
    }

    @Test
    void anUnmappedStreamName() throws Exception {
        try (Proxies proxies = tunnelProxies("unmapped-device", "nosuch", Map.of(), true)) {
            int port = connectAndSeeItClosed(proxies.port());
            expectWarn(port, "no target is mapped to 'nosuch'");
        }
    }

    @Test
    void aRefusedTarget() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        try (Proxies proxies = tunnelProxies("refused-device", "dead",
                Map.of("dead", new InetSocketAddress("127.0.0.1", closed)), false)) {
            int port = connectAndSeeItClosed(proxies.port());
            expectWarn(port, "Connection refused");
        }
    }

    @Test
    void anOfflineDevice() throws Exception {
        hub.createDevice("offline-device");
        try (ServiceProxy proxy = serviceProxy("offline-device", "ssh")) {
            int port = connectAndSeeItClosed(proxy.localAddress().getPort());
            expectWarn(port, "offline-device");
        }
    }

    @Test
    void theStreamCap() throws Exception {
        try (Proxies proxies = tunnelProxies("capped-device", "echo", Map.of(), true);
             Socket first = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            // the first session holds the device's one stream
            first.setSoTimeout(30_000);
            first.getOutputStream().write("hello".getBytes());
            assertEquals("hello", new String(first.getInputStream().readNBytes(5)));
            try (ServiceProxy second = serviceProxy("capped-device", "echo")) {
                int port = connectAndSeeItClosed(second.localAddress().getPort());
                expectWarn(port, "too many streams");
            }
        }
    }

    private static Proxies tunnelProxies(String device, String stream, Map<String, InetSocketAddress> targets,
                                         boolean echo) throws Exception {
        return new Proxies(hub, device, stream, targets, echo, MqttTransport.MQTT, ServiceProxy.Mode.TUNNEL,
                Duration.ZERO);
    }

    private static ServiceProxy serviceProxy(String device, String stream) {
        return new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target(device, null, stream, Duration.ZERO, Duration.ofSeconds(30)),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ServiceProxy.Mode.TUNNEL,
                TunnelConfig.defaults());
    }

    /** Connects as a client would and waits for the proxy to close the connection; its local port. */
    private static int connectAndSeeItClosed(int proxyPort) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxyPort)) {
            s.setSoTimeout(30_000);
            try {
                assertEquals(-1, s.getInputStream().read(), "the proxy answered");
            } catch (SocketException reset) {
                // closed all the same
            }
            return s.getLocalPort();
        }
    }

    /** A WARN line of the service proxy about the connection from {@code port}, giving {@code reason}. */
    private static void expectWarn(int port, String reason) throws InterruptedException {
        String line = log.await(l -> l.contains(" WARN ") && l.contains("[service-proxy")
                        && l.matches(".*connection from /127\\.0\\.0\\.1:" + port + "\\D.*") && l.contains(reason),
                "at WARN naming the connection from port " + port + " and '" + reason + "'", Duration.ofSeconds(20));
        System.out.println("connection failure: " + line);
    }
}
