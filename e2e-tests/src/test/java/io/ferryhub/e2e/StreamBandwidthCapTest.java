package io.ferryhub.e2e;

import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.gateway.BandwidthCaps;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hub whose gateway caps each stream at 4 MB/s: a tunnel session's echoed transfer completes intact, paced by
 * the cap (at most 1.5 times it, measured from the first byte written to the last echoed); once the cap is lifted,
 * a new session moves the same bytes faster than the capped one may.
 */
class StreamBandwidthCapTest {
    private static final long CAP = 4_000_000;

    @TempDir
    Path dataDir;

    @Test
    void aCappedStreamDeliversEverythingAtTheCap() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir)) {
            hub.hub.streamGateway().bandwidthCaps(new BandwidthCaps(CAP, 0, 0, hub.hub.scheduler()));
            try (Proxies proxies = new Proxies(hub, "capped-device", "echo", Map.of(), true)) {
                double capped = echoRate(hub, "capped");
                assertTrue(capped <= 1.5 * CAP, String.format("%.0f B/s through a stream capped at %d B/s",
                        capped, CAP));
                // streams joined from now on are not capped
                hub.hub.streamGateway().bandwidthCaps(BandwidthCaps.none());
                double uncapped = echoRate(hub, "uncapped");
                // above what the capped stream may reach: the cap, not the machine, paced it
                assertTrue(uncapped > 1.5 * CAP, String.format("%.0f B/s without a cap, %.0f B/s with it: the "
                        + "cap did not make the difference", uncapped, capped));
            }
        }
    }

    /** Echoes 12 MB through a new tunnel session to the echo target; the rate from first byte out to last back. */
    private static double echoRate(StreamTestHub hub, String label) throws Exception {
        try (ServiceProxy tunnel = new ServiceProxy(hub.policy("service"),
                URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                new ServiceProxy.Target("capped-device", null, "echo", Duration.ZERO, Duration.ofSeconds(30)),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ServiceProxy.Mode.TUNNEL,
                TunnelConfig.defaults());
             Socket s = new Socket(InetAddress.getLoopbackAddress(), tunnel.localAddress().getPort())) {
            byte[] data = new byte[12_000_000];
            new Random(8).nextBytes(data);
            long t0 = System.nanoTime();
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> read(s, data.length));
            s.getOutputStream().write(data);
            byte[] got = back.get(60, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            assertArrayEquals(sha.digest(data), MessageDigest.getInstance("SHA-256").digest(got));
            double rate = data.length / seconds;
            System.out.printf("bandwidth cap: %s: %d bytes echoed through a stream (cap %d B/s per direction) "
                    + "in %.2f s: %.2f MB/s%n", label, data.length, CAP, seconds, rate / 1e6);
            return rate;
        }
    }

    private static byte[] read(Socket s, int size) {
        try {
            byte[] got = s.getInputStream().readNBytes(size);
            if (got.length < size) {
                throw new IllegalStateException("closed after " + got.length + " bytes");
            }
            return got;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
