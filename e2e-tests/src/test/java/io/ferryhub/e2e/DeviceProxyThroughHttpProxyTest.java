package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
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
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device proxy behind an HTTP CONNECT proxy with basic authentication (a small real one): its MQTT connection
 * and its stream links go through the proxy; wrong credentials get nowhere; and when the proxy cuts every
 * connection mid-transfer (the device's network failing), the device reconnects, the tunnel session resumes and
 * the transfer completes intact.
 */
class DeviceProxyThroughHttpProxyTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static ConnectProxy proxy;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        proxy = new ConnectProxy("device", "p@ss word");
    }

    @AfterAll
    static void stop() {
        proxy.close();
        hub.close();
    }

    private static DeviceProxy deviceProxy(ConnectionString cs, String password) {
        HttpConnectProxy via = new HttpConnectProxy("127.0.0.1", proxy.port(), "device", password);
        return new DeviceProxy(cs, new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls(), via), Map.of(),
                true, hub.nettyTls(), TunnelConfig.defaults());
    }

    @Test
    void wrongCredentialsGetNowhere() throws Exception {
        ConnectionString cs = hub.createDevice("proxy-refused");
        int before = proxy.refused.get();
        try (DeviceProxy device = deviceProxy(cs, "wrong")) {
            device.start();
            Proxies.await(() -> proxy.refused.get() > before, "the proxy refused nothing");
            assertFalse(device.isConnectedToHub());
        }
    }

    @Test
    void tunnelThroughTheProxySurvivesItCuttingEveryConnection() throws Exception {
        ConnectionString cs = hub.createDevice("proxy-device");
        int mqttBefore = proxy.tunnelsTo(hub.mqttPort());
        int httpsBefore = proxy.tunnelsTo(hub.httpsPort());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (DeviceProxy device = deviceProxy(cs, "p@ss word");
             ServiceProxy service = new ServiceProxy(hub.policy("service"),
                     URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                     new ServiceProxy.Target("proxy-device", null, "echo", Duration.ofSeconds(20),
                             Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     ServiceProxy.Mode.TUNNEL, TunnelConfig.defaults());
             Socket s = new Socket(InetAddress.getLoopbackAddress(), service.localAddress().getPort())) {
            device.start().get(10, TimeUnit.SECONDS);
            assertTrue(proxy.tunnelsTo(hub.mqttPort()) > mqttBefore, "MQTT did not go through the proxy");
            long size = 64L << 20;
            AtomicLong got = new AtomicLong();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> write(s, size), pool);
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> readDigest(s, size, got), pool);
            while (got.get() < (16 << 20)) {
                Thread.sleep(2);
            }
            assertTrue(proxy.tunnelsTo(hub.httpsPort()) > httpsBefore, "the stream did not go through the proxy");
            long cutAt = got.get();
            proxy.cutAll();
            while (got.get() < cutAt + (1 << 20)) {
                Thread.sleep(2);
            }
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(digestOf(size), reader.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertTrue(proxy.tunnelsTo(hub.httpsPort()) >= httpsBefore + 2, "the resumed link bypassed the proxy");
        } finally {
            pool.shutdownNow();
        }
    }

    private static void write(Socket s, long size) {
        try {
            Random random = new Random(42);
            byte[] chunk = new byte[64 * 1024];
            OutputStream out = s.getOutputStream();
            for (long sent = 0; sent < size; sent += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
            }
            out.flush();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] readDigest(Socket s, long size, AtomicLong progress) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            InputStream in = s.getInputStream();
            long total = 0;
            while (total < size) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new IllegalStateException("closed after " + total + " of " + size + " bytes");
                }
                sha.update(buf, 0, n);
                total += n;
                progress.set(total);
            }
            return sha.digest();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static byte[] digestOf(long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(42);
        byte[] chunk = new byte[64 * 1024];
        for (long sent = 0; sent < size; sent += chunk.length) {
            random.nextBytes(chunk);
            sha.update(chunk, 0, (int) Math.min(chunk.length, size - sent));
        }
        return sha.digest();
    }
}
