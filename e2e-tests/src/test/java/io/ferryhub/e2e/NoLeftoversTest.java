package io.ferryhub.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * After streams of every ending (clean close, reset mid-transfer, operator close) and the proxies' shutdown, the
 * process holds no more threads and file descriptors (sockets) than before the proxies started.
 */
class NoLeftoversTest {
    private static final Path FDS = Path.of("/proc/self/fd");

    @TempDir
    Path dataDir;

    @Test
    void proxiesAndTheGatewayLeaveNoThreadsOrSockets() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir)) {
            hub.createDevice("warm-up"); // the test's own HTTP client is up before the baseline
            Set<Long> threadsBefore = threadIds();
            long fdsBefore = openFds();

            Proxies proxies = new Proxies(hub, "leak-device", "echo", Map.of(), true);
            for (int i = 0; i < 10; i++) {
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
                    socket.setSoTimeout(20_000);
                    OutputStream out = socket.getOutputStream();
                    InputStream in = socket.getInputStream();
                    byte[] payload = new byte[10_000 * (i + 1)];
                    Arrays.fill(payload, (byte) i);
                    out.write(payload);
                    assertArrayEquals(payload, in.readNBytes(payload.length));
                    if (i % 3 == 1) {
                        socket.setSoLinger(true, 0);
                    } else if (i % 3 == 2) {
                        String id = proxies.hubStreams().get(0).get("streamId").asText();
                        hub.owner("DELETE", "/streams/" + id, null, Map.of());
                        assertEquals(-1, in.read());
                    }
                }
                proxies.awaitIdle();
            }
            proxies.close();

            Proxies.await(() -> leftoverThreads(threadsBefore).isEmpty(),
                    "threads left behind: " + leftoverThreads(threadsBefore));
            Proxies.await(() -> openFds() <= fdsBefore,
                    "file descriptors left open: " + openFds() + " > " + fdsBefore);
        }
    }

    private static Set<Long> threadIds() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getId).collect(Collectors.toSet());
    }

    /** New proxy threads still alive (the hub's own pools grow with use and are the hub's to end). */
    private static Set<String> leftoverThreads(Set<Long> before) {
        Set<String> names = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && !before.contains(t.getId()) && (t.getName().startsWith("device-proxy")
                    || t.getName().startsWith("service-proxy"))) {
                names.add(t.getName());
            }
        }
        return names;
    }

    private static long openFds() {
        try (Stream<Path> fds = Files.list(FDS)) {
            return fds.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
