package io.ferryhub.cli;

import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code iothub} as the user runs it, in a process of its own, so that what reaches stderr is everything the JVM
 * writes there (log lines included), not only what the command prints.
 */
class CliProcessTest {
    /** slf4j-simple's line with the ISO-8601 date and time in front: 2026-12-07T21:14:03.512Z [thread] INFO */
    static final Pattern TIMESTAMPED_LOG_LINE = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) "
                    + "\\[[^]]+] (INFO|WARN|ERROR|DEBUG) .+");

    @TempDir
    static Path dataDir;
    static HubServer hub;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    record Result(int status, String out, String err) {
    }

    static ProcessBuilder iothubProcess(List<String> argv) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(argv);
        return new ProcessBuilder(command);
    }

    static Result iothub(String... argv) throws Exception {
        List<String> args = new ArrayList<>(List.of(argv));
        args.addAll(List.of("--data-dir", dataDir.toString(), "--url", "https://localhost:" + hub.httpsPort()));
        Process process = iothubProcess(args).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(process, false));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(process, true));
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "iothub " + args + " did not finish within 60 s");
        return new Result(process.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    }

    private static String readAll(Process process, boolean stderr) {
        try {
            return new String((stderr ? process.getErrorStream() : process.getInputStream()).readAllBytes(),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aCommandPrintsItsResultAndNothingOnStderr() throws Exception {
        Result created = iothub("device", "create", "quiet-dev");
        assertEquals(0, created.status(), created.err());
        assertTrue(created.out().contains("deviceId:") && created.out().contains("quiet-dev"), created.out());
        assertEquals("", created.err(), "a successful command writes nothing to stderr");

        Result missing = iothub("device", "show", "no-such-device");
        assertEquals(1, missing.status());
        assertEquals("", missing.out());
        assertEquals(List.of("iothub: 404001 DeviceNotFound: Device 'no-such-device' not found"),
                missing.err().lines().toList(), "a failure is exactly one line");

        Result unknown = iothub("frobnicate");
        assertEquals(2, unknown.status());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
    }

    @Test
    void verboseShowsTheClientsTimestampedLog() throws Exception {
        Result verbose = iothub("device", "list", "--verbose");
        assertEquals(0, verbose.status(), verbose.err());
        assertTrue(verbose.out().startsWith("DEVICE ID"), verbose.out());
        List<String> lines = verbose.err().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains("TLS engine")), verbose.err());
        assertTrue(lines.stream().allMatch(l -> TIMESTAMPED_LOG_LINE.matcher(l).matches()), verbose.err());
    }

    /** {@code start}: the banner names the launcher a fresh clone has, and the log carries dates and times. */
    @Test
    void startPrintsRunnableNextStepsAndLogsWithTimestamps(@TempDir Path startDir) throws Exception {
        Process process = iothubProcess(List.of("start", "--data-dir", startDir.toString(), "--bind", "127.0.0.1",
                "--https-port", "0", "--mqtt-port", "0", "--amqp-port", "0")).start();
        try {
            CompletableFuture<String> firstLogLine = CompletableFuture.supplyAsync(() -> {
                try {
                    return new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))
                            .readLine();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            CompletableFuture<String> next = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = stdout.readLine()) != null) {
                        if (line.startsWith("Next:")) {
                            return line;
                        }
                    }
                    return null;
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            String nextLine = next.get(90, TimeUnit.SECONDS);
            assertNotNull(nextLine, "the hub exited before printing its banner");
            assertEquals("Next: scripts/iothub device create mydevice   then   "
                    + "scripts/iothub device connection-string mydevice", nextLine);
            String log = firstLogLine.get(30, TimeUnit.SECONDS);
            assertNotNull(log, "the hub logged nothing");
            assertTrue(TIMESTAMPED_LOG_LINE.matcher(log).matches(), log);
        } finally {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
