package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.testsupport.Await;
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
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Multiplexed tunnel sessions end to end: a real hub, the device proxy (echo and a MINA SSHD server as targets)
 * and service proxies in tunnel mode. Many connections over one session, a bulk and an interactive channel at
 * once, SSH/SFTP, and the gateway connection cut mid-transfer and resumed. Figures are printed, not asserted.
 */
class TunnelSessionTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dataDir;
    @TempDir
    static Path sftpRoot;
    static StreamTestHub hub;
    static SshServer sshd;
    static DeviceProxy device;
    static ServiceProxy echo;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        sshd = TestSshServer.start(dataDir.resolve("ssh-host-key"), sftpRoot, null);
        ConnectionString deviceCs = hub.createDevice("tunnel-device");
        device = new DeviceProxy(deviceCs, new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()),
                Map.of("ssh", new InetSocketAddress("127.0.0.1", sshd.getPort())), true, hub.nettyTls());
        device.start().get(30, TimeUnit.SECONDS);
        echo = serviceProxy("echo");
    }

    private static ServiceProxy serviceProxy(String stream) {
        return new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target("tunnel-device", null, stream, Duration.ZERO,
                Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ServiceProxy.Mode.TUNNEL, TunnelConfig.defaults());
    }

    @AfterAll
    static void stop() throws Exception {
        echo.close();
        device.close();
        sshd.stop(true);
        hub.close();
    }

    @Test
    void fiftyConcurrentChannelsOverOneSession() throws Exception {
        int channels = 50;
        int size = 1 << 20;
        ExecutorService pool = Executors.newFixedThreadPool(2 * channels);
        try {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < channels; i++) {
                long seed = i;
                all.add(CompletableFuture.runAsync(() -> echoIntact(echo.localAddress().getPort(), size, seed, pool),
                        pool));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        // One stream at the hub carried all fifty connections (sessions other tests closed may still be ending).
        Proxies.await(() -> device.tunnelSessions() == 1, "more than one tunnel session at the device");
        assertEquals(1, streamsNamed("ferryhub.tunnel.v1"));
        Proxies.await(() -> echo.activeStreams() == 0 && device.activeStreams() == 0, "channels still open");
    }

    @Test
    void interactiveEchoesBesideABulkTransferOnTheSameSession() throws Exception {
        int port = echo.localAddress().getPort();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (Socket bulk = new Socket(InetAddress.getLoopbackAddress(), port);
             Socket chat = new Socket(InetAddress.getLoopbackAddress(), port)) {
            chat.setTcpNoDelay(true);
            chat.setSoTimeout(20_000);
            AtomicLong bulkBytes = new AtomicLong();
            long bulkSize = 200L << 20;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> SeededStream.write(bulk, bulkSize, 1), pool);
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> SeededStream.readDigest(bulk, bulkSize,
                    bulkBytes), pool);
            Await.until("8 MiB of the bulk transfer", WAIT, () -> bulkBytes.get() >= (8 << 20));
            byte[] ping = new byte[64];
            byte[] pong = new byte[64];
            InputStream in = chat.getInputStream();
            OutputStream out = chat.getOutputStream();
            for (int i = 0; i < 300; i++) {
                Arrays.fill(ping, (byte) i);
                out.write(ping);
                readFully(in, pong);
                assertArrayEquals(ping, pong);
            }
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(SeededStream.digestOf(bulkSize, 1), reader.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sshAndSftpThroughASession() throws Exception {
        ServiceProxy ssh = serviceProxy("ssh");
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.start();
        try (ClientSession session = client.connect(TestSshServer.USER, "127.0.0.1", ssh.localAddress().getPort())
                .verify(WAIT).getSession()) {
            session.addPasswordIdentity(TestSshServer.PASSWORD);
            session.auth().verify(WAIT);
            try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(session)) {
                byte[] data = new byte[20 << 20];
                new Random(3).nextBytes(data);
                try (OutputStream out = sftp.write("/through-tunnel.bin")) {
                    out.write(data);
                }
                assertArrayEquals(sha256(data), sha256(Files.readAllBytes(sftpRoot.resolve("through-tunnel.bin"))));
                try (InputStream in = sftp.read("/through-tunnel.bin")) {
                    assertArrayEquals(sha256(data), sha256(in.readAllBytes()));
                }
            }
        } finally {
            client.stop();
            ssh.close();
        }
        // Closing the service proxy ends its session at the device too.
        Proxies.await(() -> device.tunnelSessions() <= 1, "the ssh session is still open at the device");
    }

    @Test
    void survivesTheGatewayConnectionDroppingMidTransfer() throws Exception {
        int port = echo.localAddress().getPort();
        long size = 120L << 20;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            AtomicLong got = new AtomicLong();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> SeededStream.write(s, size, 9), pool);
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> SeededStream.readDigest(s, size, got), pool);
            for (long cut : new long[] {20L << 20, 60L << 20}) {
                Await.until(cut + " bytes received", WAIT, () -> got.get() >= cut);
                long before = got.get();
                device.dropTunnelLinks();
                Await.until("1 MiB more after the links dropped", WAIT, () -> got.get() >= before + (1 << 20));
            }
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(SeededStream.digestOf(size, 9), reader.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        // The same session throughout: resumed, not replaced.
        Proxies.await(() -> device.tunnelSessions() == 1, "more than one tunnel session at the device");
    }

    @Test
    void auditEventsOfSessionsReachTheEventStream() throws Exception {
        try (ServiceProxy audited = serviceProxy("echo")) {
            echoIntact(audited.localAddress().getPort(), 100_000, 11, null);
        }
        // The service proxy ended its session: the gateway reports the stream's end with its bytes.
        Proxies.await(() -> auditEvents("streamClosed").stream().anyMatch(e -> e.path("bytesFirstToSecond")
                .asLong() + e.path("bytesSecondToFirst").asLong() >= 200_000), "no streamClosed audit event",
                Duration.ofSeconds(20));
        JsonNode opened = auditEvents("streamOpened").get(0);
        assertEquals("tunnel", opened.path("mode").asText());
        assertEquals("service", opened.path("initiator").asText());
        assertEquals("ferryhub.tunnel.v1", opened.path("streamName").asText());
        System.out.println("tunnel: audit event from the event stream: " + auditEvents("streamClosed").get(0));
    }

    /** The bodies of the hub's stream audit events about the test device, from every partition. */
    private static List<JsonNode> auditEvents(String opType) {
        try {
            return hub.streamAuditEvents("tunnel-device", opType);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    // ---- helpers ----

    private static int streamsNamed(String name) throws Exception {
        int n = 0;
        for (var stream : Json.parse(hub.owner("GET", "/streams", null, Map.of()).body())) {
            if (name.equals(stream.path("streamName").asText())) {
                n++;
            }
        }
        return n;
    }

    private static void echoIntact(int port, int size, long seed, ExecutorService pool) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            byte[] data = new byte[size];
            new Random(seed).nextBytes(data);
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    byte[] got = new byte[size];
                    readFully(s.getInputStream(), got);
                    return got;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, pool == null ? Executors.newSingleThreadExecutor() : pool);
            s.getOutputStream().write(data);
            assertArrayEquals(sha256(data), sha256(back.get(WAIT.toSeconds(), TimeUnit.SECONDS)));
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static void readFully(InputStream in, byte[] into) throws Exception {
        int off = 0;
        while (off < into.length) {
            int n = in.read(into, off, into.length - off);
            if (n < 0) {
                throw new IllegalStateException("closed after " + off + " bytes");
            }
            off += n;
        }
    }

    private static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }
}
