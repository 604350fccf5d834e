package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.serviceproxy.ServiceProxyMain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service proxy's command line as an operator runs it, in a JVM of its own: what a failure prints (one line on
 * stderr, saying what to do) and its exit status; and the echo probe's figures, the stream set-up apart from the
 * round trips.
 */
class ServiceProxyCliTest {
    @TempDir
    static Path dataDir;
    @TempDir
    Path outputs;
    static StreamTestHub hub;
    static Proxies proxies;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        proxies = new Proxies(hub, "cli-device", "echo", Map.of(), true);
    }

    @AfterAll
    static void stop() throws Exception {
        proxies.close();
        hub.close();
    }

    @Test
    void aListenPortInUseExitsWithOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Result r = run("--device", "cli-device", "--ca", hub.ca().toString(),
                    "--hub-port", Integer.toString(hub.httpsPort()), "--listen", "127.0.0.1:" + port);
            assertEquals(1, r.exit, r.toString());
            assertEquals(List.of("service-proxy: cannot listen on 127.0.0.1:" + port + ": Address already in use; "
                    + "stop what listens there or choose another address with --listen [HOST:]PORT"), r.stderr);
        }
    }

    @Test
    void withoutTheCaTheEchoSaysTheCertificateIsNotTrusted() throws Exception {
        Result r = run("--device", "cli-device", "--hub-port", Integer.toString(hub.httpsPort()), "--echo",
                "--pings", "3", "--bytes", "1000");
        assertEquals(1, r.exit, r.toString());
        assertEquals(1, r.stderr.size(), r.toString());
        String line = r.stderr.get(0);
        assertTrue(line.startsWith("service-proxy: echo failed: "), line);
        assertTrue(line.contains("the hub's certificate (localhost:" + hub.httpsPort() + ") is not trusted: pass "
                + "the CA certificate that issued it with --ca FILE"), line);
    }

    @Test
    void aWrongHubPortIsBlamedOnTheHubPort() throws Exception {
        int free;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        Result r = run("--device", "cli-device", "--ca", hub.ca().toString(), "--hub-port", Integer.toString(free),
                "--echo", "--pings", "3", "--bytes", "1000");
        assertEquals(1, r.exit, r.toString());
        assertEquals(1, r.stderr.size(), r.toString());
        String line = r.stderr.get(0);
        assertTrue(line.startsWith("service-proxy: echo failed: "), line);
        assertTrue(line.contains("cannot connect to the hub at localhost:" + free), line);
        assertTrue(line.contains("--hub-port is its HTTPS port"), line);
    }

    @Test
    void theEchoReportsTheStreamSetUpApartFromTheRoundTrips() throws Exception {
        Result r = run("--device", "cli-device", "--ca", hub.ca().toString(),
                "--hub-port", Integer.toString(hub.httpsPort()), "--echo", "--pings", "100", "--bytes", "1000000");
        assertEquals(0, r.exit, r.toString());
        assertEquals(List.of(), r.stderr, "nothing but the result");
        assertEquals(1, r.stdout.size(), r.toString());
        JsonNode result = Json.parse(r.stdout.get(0));
        System.out.println("echo probe: " + result);
        assertEquals(100, result.path("pings").asInt());
        assertTrue(result.path("intact").asBoolean());
        double setUp = result.path("firstEchoMillis").asDouble();
        double p99 = result.path("rttP99Millis").asDouble();
        assertTrue(setUp > 0 && p99 > 0, result.toString());
        // the set-up (stream request, device, two WebSocket handshakes) is not one of the round trips
        assertTrue(p99 < setUp / 2, "p99 " + p99 + " ms, set-up " + setUp + " ms");
    }

    private record Result(int exit, List<String> stdout, List<String> stderr) {
    }

    /** Runs the service proxy's main in a JVM of its own, with the service connection string of the hub. */
    private Result run(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ServiceProxyMain.class.getName(),
                "--connection-string", hub.policy("service").toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(outputs, "stdout", ".txt");
        Path err = Files.createTempFile(outputs, "stderr", ".txt");
        Process child = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("still running after 60 s; stderr: " + lines(err));
        }
        return new Result(child.exitValue(), lines(out), lines(err));
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }
}
