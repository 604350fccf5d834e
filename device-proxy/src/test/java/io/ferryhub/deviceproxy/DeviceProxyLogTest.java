package io.ferryhub.deviceproxy;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device proxy as a user runs it, in a process of its own: its log lines start with an ISO-8601 date-time. */
class DeviceProxyLogTest {
    static final Pattern TIMESTAMPED = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) \\[[^]]+] (INFO|WARN|ERROR) .+");

    @Test
    void logLinesCarryTheirDateAndTime() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DeviceProxyMain.class.getName(),
                "--transport", "mqtt", "--mqtt-port", "1", "--map", "ssh=localhost:22");
        // the connection string from the environment, as the documentation advises; no hub is needed to log
        builder.environment().put("FERRYHUB_DEVICE_CONNECTION_STRING",
                "HostName=127.0.0.1;DeviceId=log-dev;SharedAccessKey="
                        + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=");
        Process process = builder.start();
        try {
            List<String> lines = new ArrayList<>();
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = err.readLine()) != null) {
                        synchronized (lines) {
                            lines.add(line);
                        }
                        if (line.contains("device proxy serving streams [ssh]")) {
                            return;
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                throw new IllegalStateException("exited without logging that it started: " + lines);
            });
            serving.get(60, TimeUnit.SECONDS);
            synchronized (lines) {
                assertTrue(lines.stream().allMatch(l -> TIMESTAMPED.matcher(l).matches()), String.join("\n", lines));
            }
        } finally {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
