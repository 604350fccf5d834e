package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import java.time.Duration;

/**
 * RDP through a stream: Debian's xrdp behind the device proxy, FreeRDP's {@code xfreerdp +auth-only} (under Xvfb)
 * through the service proxy completes the RDP negotiation and its TLS handshake. Needs xrdp, freerdp2-x11, xvfb.
 */
class RdpThroughStreamTest {
    private static final Path XRDP = Path.of("/usr/sbin/xrdp");
    private static final Path XFREERDP = Path.of("/usr/bin/xfreerdp");
    private static final Path XVFB_RUN = Path.of("/usr/bin/xvfb-run");

    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static Proxies proxies;
    static Process xrdp;

    @BeforeAll
    static void start() throws Exception {
        // the test command installs these (scripts/install-test-deps): missing tools are a failure, not a skip
        assertTrue(Files.isExecutable(XRDP) && Files.isExecutable(XFREERDP) && Files.isExecutable(XVFB_RUN),
                "xrdp, xfreerdp or xvfb-run missing: run scripts/install-test-deps");
        try {
            Files.createDirectories(Path.of("/run/xrdp/sockdir"));
        } catch (IOException e) {
            throw new IllegalStateException("xrdp needs /run/xrdp/sockdir: " + e.getMessage(), e);
        }
        int port = startXrdp();
        hub = new StreamTestHub(dataDir);
        proxies = new Proxies(hub, "rdp-device", "rdp", Map.of("rdp", new InetSocketAddress("127.0.0.1", port)),
                false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxies != null) {
            proxies.close();
        }
        if (hub != null) {
            hub.close();
        }
        if (xrdp != null) {
            // xrdp forks a child per connection: end those we started too, before they lose their parent.
            List<ProcessHandle> children = new ArrayList<>(xrdp.descendants().toList());
            xrdp.destroy();
            children.forEach(ProcessHandle::destroy);
            xrdp.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void xfreerdpCompletesItsHandshakeThroughAStream() throws Exception {
        Process client = new ProcessBuilder(XVFB_RUN.toString(), "-a", XFREERDP.toString(),
                "/v:127.0.0.1:" + proxies.port(), "/cert:ignore", "+auth-only", "/u:operator", "/p:x", "/sec:tls")
                .redirectErrorStream(true).start();
        String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(client.waitFor(60, TimeUnit.SECONDS), "xfreerdp did not finish");
        assertEquals(0, client.exitValue(), out);
        assertTrue(out.contains("Authentication only, exit status 0"), out);
        proxies.awaitIdle();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Starts xrdp on a free port and returns the port once it listens. The port is free when chosen but another
     * process may take it before xrdp binds it, so an xrdp that exits before listening is started again on a new
     * port (three tries).
     */
    private static int startXrdp() throws Exception {
        String exits = "";
        for (int attempt = 1; attempt <= 3; attempt++) {
            int port = freePort();
            Path log = dataDir.resolve("xrdp-" + attempt + ".log");
            xrdp = new ProcessBuilder(XRDP.toString(), "-n", "-p", String.valueOf(port)).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (awaitListening(port)) {
                return port;
            }
            exits += "\n--- attempt " + attempt + " (port " + port + "):\n" + Files.readString(log);
        }
        throw new AssertionError("xrdp exited before listening, three times:" + exits);
    }

    /** True once xrdp listens on {@code port}; false if it exited first. */
    private static boolean awaitListening(int port) throws Exception {
        Boolean listening = Await.value(Duration.ofSeconds(30), () -> {
            try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException notYet) {
                return xrdp.isAlive() ? null : false;
            }
        });
        if (listening == null) {
            throw new AssertionError("xrdp did not listen on " + port + " within 30 s");
        }
        return listening;
    }
}
