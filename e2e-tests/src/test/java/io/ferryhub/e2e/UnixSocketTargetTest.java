package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A device proxy target that is a Unix domain socket, reached through a tunnel session and through a stream. */
class UnixSocketTargetTest {
    @TempDir
    Path dataDir;
    @TempDir
    Path socketDir;

    @Test
    void echoesThroughAUnixSocketTargetInBothModes() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        UnixDomainSocketAddress path = UnixDomainSocketAddress.of(socketDir.resolve("echo.sock"));
        try (StreamTestHub hub = new StreamTestHub(dataDir);
             ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(path);
            pool.execute(() -> serveEcho(server, pool));
            try (DeviceProxy device = new DeviceProxy(hub.createDevice("uds-device"),
                    new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()), Map.of("uds", path), false,
                    hub.nettyTls())) {
                device.start().get(30, TimeUnit.SECONDS);
                for (ServiceProxy.Mode mode : ServiceProxy.Mode.values()) {
                    try (ServiceProxy service = new ServiceProxy(hub.policy("service"),
                            URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                            new ServiceProxy.Target("uds-device", null, "uds", Duration.ZERO, Duration.ofSeconds(30)),
                            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode,
                            TunnelConfig.defaults());
                         Socket s = new Socket(InetAddress.getLoopbackAddress(), service.localAddress().getPort())) {
                        byte[] data = new byte[2_000_000];
                        new Random(mode.ordinal()).nextBytes(data);
                        CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> read(s, data.length),
                                pool);
                        s.getOutputStream().write(data);
                        byte[] echoed = back.get(60, TimeUnit.SECONDS);
                        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                                MessageDigest.getInstance("SHA-256").digest(echoed), mode.name());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void serveEcho(ServerSocketChannel server, ExecutorService pool) {
        while (server.isOpen()) {
            try {
                SocketChannel s = server.accept();
                pool.execute(() -> {
                    try (s) {
                        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
                        while (s.read(buf) >= 0) {
                            buf.flip();
                            while (buf.hasRemaining()) {
                                s.write(buf);
                            }
                            buf.clear();
                        }
                    } catch (Exception e) {
                        // the client went away
                    }
                });
            } catch (Exception e) {
                return;
            }
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
