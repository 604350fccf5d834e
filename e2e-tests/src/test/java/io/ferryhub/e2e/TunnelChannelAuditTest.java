package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.testsupport.Await;
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
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-channel audit of tunnel sessions: every channel's open and close reach the hub's event stream with who
 * opened it, the target, the times and the bytes each way, and those byte counts are exactly what the test sent
 * and got back, also when the session was cut and resumed mid-transfer (replayed frames counted once).
 */
class TunnelChannelAuditTest {
    private static final String DEVICE = "audited-device";

    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static DeviceProxy device;
    static ServiceProxy tunnel;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        ConnectionString deviceCs = hub.createDevice(DEVICE);
        device = new DeviceProxy(deviceCs, new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()), Map.of(),
                true, hub.nettyTls());
        device.start().get(30, TimeUnit.SECONDS);
        tunnel = new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target(DEVICE, null, "echo", Duration.ZERO, Duration.ofSeconds(30)),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ServiceProxy.Mode.TUNNEL,
                TunnelConfig.defaults());
    }

    @AfterAll
    static void stop() {
        tunnel.close();
        device.close();
        hub.close();
    }

    @Test
    void eachChannelsOpenAndCloseCarryItsTargetAndExactByteCounts() throws Exception {
        Instant before = Instant.now();
        StreamPolicyTest.echoIntact(tunnel, 300_000, 1);
        StreamPolicyTest.echoIntact(tunnel, 70_001, 2);
        JsonNode big = StreamPolicyTest.awaitAudit(hub, DEVICE, "channelClosed",
                e -> e.path("bytesServiceToDevice").asLong() == 300_000);
        JsonNode small = StreamPolicyTest.awaitAudit(hub, DEVICE, "channelClosed",
                e -> e.path("bytesServiceToDevice").asLong() == 70_001);
        assertEquals(300_000, big.path("bytesDeviceToService").asLong());
        assertEquals(70_001, small.path("bytesDeviceToService").asLong());
        for (JsonNode closed : List.of(big, small)) {
            assertEquals("echo", closed.path("target").asText());
            assertEquals("service", closed.path("initiator").asText());
            assertEquals(DEVICE, closed.path("deviceId").asText());
            assertTrue(closed.path("reason").asText().startsWith("closed by the service side"), closed.toString());
            assertTrue(!Instant.parse(closed.path("opened").asText()).isBefore(before.minusSeconds(1)));
            assertTrue(!Instant.parse(closed.path("closed").asText()).isBefore(
                    Instant.parse(closed.path("opened").asText())));
        }
        assertTrue(big.path("channel").asLong() != small.path("channel").asLong());
        assertEquals(big.path("streamId").asText(), small.path("streamId").asText(), "one session, one stream");
        JsonNode opened = StreamPolicyTest.awaitAudit(hub, DEVICE, "channelOpened",
                e -> e.path("channel").asLong() == big.path("channel").asLong());
        assertEquals("echo", opened.path("target").asText());
        assertTrue(opened.path("bytesServiceToDevice").isMissingNode(), "an opening has no byte counts yet");
    }

    @Test
    void aResumedSessionCountsReplayedBytesOnce() throws Exception {
        long size = 24L << 20;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tunnel.localAddress().getPort())) {
            AtomicLong got = new AtomicLong();
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            byte[] data = new byte[(int) size];
            new Random(7).nextBytes(data);
            sent.update(data);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < data.length; off += 64 * 1024) {
                        out.write(data, off, Math.min(64 * 1024, data.length - off));
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    MessageDigest digest = MessageDigest.getInstance("SHA-256");
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[64 * 1024];
                    while (got.get() < size) {
                        int n = in.read(buf);
                        if (n < 0) {
                            break;
                        }
                        digest.update(buf, 0, n);
                        got.addAndGet(n);
                    }
                    return digest.digest();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            for (long cut : new long[] {4L << 20, 12L << 20}) {
                Await.until(cut + " bytes received", Duration.ofSeconds(60),
                        () -> got.get() >= cut || reader.isDone());
                device.dropTunnelLinks();
            }
            writer.get(60, TimeUnit.SECONDS);
            assertArrayEquals(sent.digest(), reader.get(60, TimeUnit.SECONDS));
        }
        JsonNode closed = StreamPolicyTest.awaitAudit(hub, DEVICE, "channelClosed",
                e -> e.path("bytesServiceToDevice").asLong() > 1_000_000);
        assertEquals(size, closed.path("bytesServiceToDevice").asLong());
        assertEquals(size, closed.path("bytesDeviceToService").asLong());
        assertTrue(hub.streamAuditEvents(DEVICE, "streamClosed").size() >= 2,
                "the session was carried by more than one stream");
    }
}
