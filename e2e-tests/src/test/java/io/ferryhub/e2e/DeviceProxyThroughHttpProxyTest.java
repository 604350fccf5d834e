package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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
            device.start().get(30, TimeUnit.SECONDS);
            assertTrue(proxy.tunnelsTo(hub.mqttPort()) > mqttBefore, "MQTT did not go through the proxy");
            long size = 64L << 20;
            AtomicLong got = new AtomicLong();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> SeededStream.write(s, size, 42), pool);
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> SeededStream.readDigest(s, size, got), pool);
            Await.until("16 MiB received", WAIT, () -> got.get() >= (16 << 20));
            assertTrue(proxy.tunnelsTo(hub.httpsPort()) > httpsBefore, "the stream did not go through the proxy");
            long cutAt = got.get();
            proxy.cutAll();
            Await.until("1 MiB more after the cut", WAIT, () -> got.get() >= cutAt + (1 << 20));
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertArrayEquals(SeededStream.digestOf(size, 42), reader.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertTrue(proxy.tunnelsTo(hub.httpsPort()) >= httpsBefore + 2, "the resumed link bypassed the proxy");
        } finally {
            pool.shutdownNow();
        }
    }
}
