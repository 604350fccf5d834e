package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device whose network lets only the HTTPS port out: its proxy's MQTT connection runs over WebSockets on the
 * hub's HTTPS port, through an HTTP CONNECT proxy with basic authentication that refuses every other port, and
 * SSH (MINA SSHD) and echo sessions go through it with their bytes checked.
 */
class DeviceProxyOverHttpsPortTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path sftpRoot;
    static StreamTestHub hub;
    static ConnectProxy httpsOnlyProxy;
    static SshServer sshd;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        httpsOnlyProxy = new ConnectProxy("device", "p@ss word", Set.of(hub.httpsPort()));
        sshd = TestSshServer.start(dataDir.resolve("ssh-host-key"), sftpRoot, null);
    }

    @AfterAll
    static void stop() throws Exception {
        sshd.stop(true);
        httpsOnlyProxy.close();
        hub.close();
    }

    @Test
    void autoTransportFallsBackToWebSocketsThroughAProxyThatOnlyAllowsHttps() throws Exception {
        ConnectionString cs = hub.createDevice("https-only-device");
        HttpConnectProxy via = new HttpConnectProxy("127.0.0.1", httpsOnlyProxy.port(), "device", "p@ss word");
        HubEndpoint endpoint = new HubEndpoint(hub.host(), hub.mqttPort(), hub.httpsPort(), MqttTransport.AUTO,
                hub.nettyTls(), via);
        try (DeviceProxy device = new DeviceProxy(cs, endpoint,
                Map.of("ssh", new InetSocketAddress("127.0.0.1", sshd.getPort())), true, hub.nettyTls(),
                TunnelConfig.defaults());
             ServiceProxy ssh = serviceProxy("https-only-device", "ssh", ServiceProxy.Mode.TUNNEL);
             SshClient client = SshClient.setUpDefaultClient()) {
            device.start().get(30, TimeUnit.SECONDS);
            assertTrue(httpsOnlyProxy.forbiddenTo(hub.mqttPort()) > 0, "MQTT's port was not tried first");
            assertEquals(0, httpsOnlyProxy.tunnelsTo(hub.mqttPort()));
            int httpsTunnels = httpsOnlyProxy.tunnelsTo(hub.httpsPort());
            assertTrue(httpsTunnels > 0, "MQTT over WebSockets did not go through the proxy");

            client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
            client.start();
            try (ClientSession session = client.connect(TestSshServer.USER, "127.0.0.1", ssh.localAddress().getPort())
                    .verify(WAIT).getSession()) {
                session.addPasswordIdentity(TestSshServer.PASSWORD);
                session.auth().verify(WAIT);
                try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
                    byte[] file = randomBytes(8 << 20, 3);
                    try (OutputStream out = sftp.write("/through-443.bin")) {
                        out.write(file);
                    }
                    assertArrayEquals(sha256(file), sha256(Files.readAllBytes(sftpRoot.resolve("through-443.bin"))));
                    try (InputStream in = sftp.read("/through-443.bin")) {
                        assertArrayEquals(sha256(file), sha256(in.readAllBytes()));
                    }
                }
            }
            assertTrue(httpsOnlyProxy.tunnelsTo(hub.httpsPort()) > httpsTunnels,
                    "the stream's WebSocket did not go through the proxy");
            assertEquals(0, httpsOnlyProxy.tunnelsTo(hub.mqttPort()));
        }
    }

    /**
     * Behind a firewall that silently drops packets to the MQTT port (a proxy that takes the CONNECT to it and never
     * answers), the auto transport gives up on that port early, comes online over WebSockets and relays a stream;
     * after a network failure it reconnects over WebSockets straight away, without waiting on the MQTT port again.
     */
    @Test
    void autoTransportFallsBackToWebSocketsWhenTheMqttPortIsABlackHole() throws Exception {
        ConnectionString cs = hub.createDevice("black-hole-device");
        try (ConnectProxy firewall = new ConnectProxy("device", "secret")) {
            firewall.blackHole(hub.mqttPort());
            HttpConnectProxy via = new HttpConnectProxy("127.0.0.1", firewall.port(), "device", "secret");
            HubEndpoint endpoint = new HubEndpoint(hub.host(), hub.mqttPort(), hub.httpsPort(), MqttTransport.AUTO,
                    hub.nettyTls(), via);
            try (DeviceProxy device = new DeviceProxy(cs, endpoint, Map.of(), true, hub.nettyTls(),
                    TunnelConfig.defaults());
                 ServiceProxy echo = serviceProxy("black-hole-device", "echo",
                         ServiceProxy.Mode.STREAM_PER_CONNECTION)) {
                long started = System.nanoTime();
                device.start().get(30, TimeUnit.SECONDS);
                // a figure for the log, never asserted: the fallback delay plus a WebSocket connection
                System.out.printf("online over WebSockets %d ms after start, the MQTT port black-holed%n",
                        (System.nanoTime() - started) / 1_000_000);
                assertEquals(1, firewall.swallowedTo(hub.mqttPort()), "the MQTT port was not tried first");
                assertEquals(1, firewall.tunnelsTo(hub.httpsPort()), "not online over WebSockets");
                assertEquals(0, firewall.tunnelsTo(hub.mqttPort()));
                assertEchoes(echo, 5);

                int httpsTunnels = firewall.tunnelsTo(hub.httpsPort());
                firewall.cutAll();
                // no stream is open: a new tunnel to the HTTPS port is the reconnect
                Proxies.await(() -> firewall.tunnelsTo(hub.httpsPort()) > httpsTunnels && device.isConnectedToHub(),
                        "the device did not come back over WebSockets");
                assertEquals(1, firewall.swallowedTo(hub.mqttPort()), "the reconnect waited on the MQTT port again");
                assertEchoes(echo, 6);
            }
        }
    }

    private static void assertEchoes(ServiceProxy echo, long seed) throws Exception {
        byte[] payload = randomBytes(32 << 10, seed);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), echo.localAddress().getPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(payload);
            assertArrayEquals(payload, s.getInputStream().readNBytes(payload.length));
        }
    }

    @Test
    void webSocketTransportNeedsNoMqttPort() throws Exception {
        ConnectionString cs = hub.createDevice("ws-device");
        int closedPort = unusedPort();
        HubEndpoint endpoint = new HubEndpoint(hub.host(), closedPort, hub.httpsPort(), MqttTransport.MQTT_WS,
                hub.nettyTls(), null);
        try (DeviceProxy device = new DeviceProxy(cs, endpoint, Map.of(), true, hub.nettyTls(),
                TunnelConfig.defaults());
             ServiceProxy echo = serviceProxy("ws-device", "echo", ServiceProxy.Mode.STREAM_PER_CONNECTION)) {
            device.start().get(30, TimeUnit.SECONDS);
            byte[] payload = randomBytes(4 << 20, 11);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), echo.localAddress().getPort())) {
                s.setSoTimeout(20_000);
                Thread writer = new Thread(() -> {
                    try {
                        s.getOutputStream().write(payload);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                writer.start();
                assertArrayEquals(sha256(payload), sha256(s.getInputStream().readNBytes(payload.length)));
                writer.join();
            }
        }
    }

    private static ServiceProxy serviceProxy(String deviceId, String streamName, ServiceProxy.Mode mode) {
        return new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target(deviceId, null, streamName, Duration.ofSeconds(20),
                Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode,
                TunnelConfig.defaults());
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    private static int unusedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
