package io.ferryhub.e2e;

import io.ferryhub.deviceproxy.DeviceProxyMain;
import io.ferryhub.testsupport.Await;
import io.ferryhub.serviceproxy.ServiceProxyMain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JVM flags the launchers (scripts/device-proxy, scripts/service-proxy) give the proxies by default keep their
 * memory small: both proxies run here as JVMs of their own with exactly those flags, read from the launchers, and
 * must still carry 10 bulk channels at once and then 100 concurrent connections, every echo intact and neither
 * process gone (out of heap, they exit; out of direct memory, connections break).
 */
class LauncherMemoryDefaultsTest {
    private static final Pattern DEFAULTS = Pattern.compile("LAUNCH_JVM_DEFAULTS=\"([^\"]*)\"");

    @TempDir
    static Path dataDir;
    @TempDir
    Path logs;
    static StreamTestHub hub;
    private final List<Process> children = new ArrayList<>();

    @BeforeAll
    static void startHub() throws Exception {
        hub = new StreamTestHub(dataDir);
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    @AfterEach
    void stopChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroy();
        }
        for (Process p : children) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theDefaultFlagsCarryTenBulkChannelsAndAHundredConcurrentConnections() throws Exception {
        List<String> deviceFlags = launcherDefaults("device-proxy");
        List<String> serviceFlags = launcherDefaults("service-proxy");
        assertTrue(deviceFlags.stream().anyMatch(f -> f.startsWith("-Xmx")), "the device proxy's heap is capped");
        assertTrue(serviceFlags.stream().anyMatch(f -> f.startsWith("-Xmx")), "the service proxy's heap is capped");

        String deviceCs = hub.createDevice("flags-device").toString();
        Process device = start("device-proxy", deviceFlags, DeviceProxyMain.class.getName(),
                "--connection-string", deviceCs, "--ca", hub.ca().toString(),
                "--mqtt-port", Integer.toString(hub.mqttPort()), "--https-port", Integer.toString(hub.httpsPort()),
                "--transport", "mqtt", "--echo");
        int port = freePort();
        Process service = start("service-proxy", serviceFlags, ServiceProxyMain.class.getName(),
                "--connection-string", hub.policy("service").toString(), "--ca", hub.ca().toString(),
                "--hub-port", Integer.toString(hub.httpsPort()), "--device", "flags-device", "--stream", "echo",
                "--listen", "127.0.0.1:" + port, "--connect-timeout", "30");
        Await.until("an echo through both proxies", Duration.ofSeconds(90), () -> {
            assertTrue(device.isAlive() && service.isAlive(), "a proxy exited: " + logTails());
            try {
                echo(port, 1024, 1).get(20, TimeUnit.SECONDS);
                return true;
            } catch (Exception notYet) {
                return false;
            }
        });

        echoConcurrently(port, 10, 16L * 1024 * 1024, Duration.ofSeconds(180));
        assertTrue(device.isAlive() && service.isAlive(), "a proxy exited under 10 bulk channels: " + logTails());
        echoConcurrently(port, 100, 512L * 1024, Duration.ofSeconds(180));
        assertTrue(device.isAlive() && service.isAlive(), "a proxy exited under 100 connections: " + logTails());
        String logged = Files.readString(logs.resolve("device-proxy.log")) + Files.readString(
                logs.resolve("service-proxy.log"));
        assertFalse(logged.contains("OutOfMemoryError") || logged.contains("OutOfDirectMemoryError"), logTails());
    }

    /** {@code connections} connections at once, each echoing {@code size} bytes, every echo compared by SHA-256. */
    private void echoConcurrently(int port, int connections, long size, Duration limit) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                all.add(echo(port, size, 1000 + i, pool));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .get(limit.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    private static CompletableFuture<Void> echo(int port, long size, long seed) {
        ExecutorService pool = Executors.newCachedThreadPool();
        return echo(port, size, seed, pool).whenComplete((ok, failed) -> pool.shutdownNow());
    }

    private static CompletableFuture<Void> echo(int port, long size, long seed, ExecutorService pool) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
                s.setSoTimeout(60_000);
                return s;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, pool).thenCompose(s -> {
            CompletableFuture<Void> written = CompletableFuture.runAsync(() -> SeededStream.write(s, size, seed),
                    pool);
            return CompletableFuture.supplyAsync(() -> SeededStream.readDigest(s, size, new AtomicLong()), pool)
                    .thenCombine(written, (digest, done) -> digest)
                    .thenAccept(digest -> {
                        try {
                            assertArrayEquals(SeededStream.digestOf(size, seed), digest, "echo of " + size + " B");
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        } finally {
                            close(s);
                        }
                    });
        });
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private Process start(String name, List<String> flags, String main, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.addAll(flags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile());
        builder.environment().put("MALLOC_ARENA_MAX", "2");
        Process p = builder.start();
        children.add(p);
        return p;
    }

    /** The flags a launcher sets in LAUNCH_JVM_DEFAULTS (continued lines joined). */
    static List<String> launcherDefaults(String launcher) throws IOException {
        String text = Files.readString(repoRoot().resolve("scripts").resolve(launcher), StandardCharsets.UTF_8)
                .replace("\\\n", " ");
        Matcher m = DEFAULTS.matcher(text);
        assertTrue(m.find(), launcher + " sets no LAUNCH_JVM_DEFAULTS");
        return Arrays.stream(m.group(1).trim().split("\\s+")).toList();
    }

    /** The checkout's root: the directory above the working directory that holds the launchers. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("scripts/lib/launch-module"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "scripts/ not found above " + Path.of("").toAbsolutePath());
        return dir;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private String logTails() {
        StringBuilder b = new StringBuilder();
        for (String name : List.of("device-proxy.log", "service-proxy.log")) {
            try {
                List<String> lines = Files.readAllLines(logs.resolve(name));
                b.append('\n').append(name).append(": ")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            } catch (IOException e) {
                b.append('\n').append(name).append(": ").append(e);
            }
        }
        return b.toString();
    }
}
