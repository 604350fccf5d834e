package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.json.Json;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One run, three ways to the same TCP echo server: directly, through a tunnel session, and with one IoT Hub
 * stream per connection. Prints JSON with connection set-up latency (connect and first echoed byte) and the
 * throughput of one echoed transfer (checked by SHA-256). Figures are reported, not asserted.
 */
class TunnelModesComparisonTest {
    private static final int SETUPS = 100;
    private static final long BYTES = 64L << 20;

    @TempDir
    Path dataDir;

    @Test
    void directVersusTunnelVersusStreamPerConnection() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (StreamTestHub hub = new StreamTestHub(dataDir);
             ServerSocket echo = new ServerSocket(0, 200, InetAddress.getLoopbackAddress())) {
            pool.execute(() -> serveEcho(echo, pool));
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), echo.getLocalPort());
            try (DeviceProxy device = new DeviceProxy(hub.createDevice("modes-device"),
                    new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()), Map.of("bench", target), false,
                    hub.nettyTls());
                 ServiceProxy tunnel = serviceProxy(hub, ServiceProxy.Mode.TUNNEL);
                 ServiceProxy perStream = serviceProxy(hub, ServiceProxy.Mode.STREAM_PER_CONNECTION)) {
                device.start().get(10, TimeUnit.SECONDS);
                ObjectNode result = Json.object();
                result.put("setups", SETUPS).put("transferBytes", BYTES);
                result.set("direct", measure(echo.getLocalPort(), pool));
                result.set("tunnel", measure(tunnel.localAddress().getPort(), pool));
                result.set("streamPerConnection", measure(perStream.localAddress().getPort(), pool));
                result.put("setupP50TunnelVsStream", result.at("/streamPerConnection/setupP50Ms").asDouble()
                        / result.at("/tunnel/setupP50Ms").asDouble());
                result.put("throughputTunnelVsDirect", result.at("/tunnel/throughputMBps").asDouble()
                        / result.at("/direct/throughputMBps").asDouble());
                System.out.println("tunnel modes: " + Json.toString(result));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static ServiceProxy serviceProxy(StreamTestHub hub, ServiceProxy.Mode mode) {
        return new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target("modes-device", null, "bench", Duration.ZERO,
                Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode,
                TunnelConfig.defaults());
    }

    private static ObjectNode measure(int port, ExecutorService pool) throws Exception {
        long[] setup = new long[SETUPS + 1];
        for (int i = 0; i < setup.length; i++) {
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setTcpNoDelay(true);
                s.getOutputStream().write(42);
                assertEquals(42, s.getInputStream().read());
            }
            setup[i] = System.nanoTime() - t0;
        }
        long[] measured = Arrays.copyOfRange(setup, 1, setup.length); // the first may open the session
        Arrays.sort(measured);
        long t0 = System.nanoTime();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> digestRead(s), pool);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            Random random = new Random(5);
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = s.getOutputStream();
            for (long n = 0; n < BYTES; n += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk);
                sent.update(chunk);
            }
            assertArrayEquals(sent.digest(), back.get(120, TimeUnit.SECONDS));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        ObjectNode node = Json.object();
        node.put("firstSetupMs", round(setup[0] / 1e6));
        node.put("setupP50Ms", round(measured[measured.length / 2] / 1e6));
        node.put("setupP99Ms", round(measured[measured.length * 99 / 100] / 1e6));
        node.put("throughputMBps", round(BYTES / seconds / 1e6));
        return node;
    }

    private static byte[] digestRead(Socket s) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            InputStream in = s.getInputStream();
            for (long total = 0; total < BYTES; ) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new IllegalStateException("closed after " + total + " bytes");
                }
                sha.update(buf, 0, n);
                total += n;
            }
            return sha.digest();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static void serveEcho(ServerSocket server, ExecutorService pool) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                pool.execute(() -> {
                    try (s) {
                        s.setTcpNoDelay(true);
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (Exception e) {
                        // the client went away
                    }
                });
            } catch (Exception e) {
                return;
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
