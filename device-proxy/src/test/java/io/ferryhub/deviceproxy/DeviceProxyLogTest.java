package io.ferryhub.deviceproxy;

import io.ferryhub.testsupport.ProgramLog;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The device proxy as a user runs it, in a process of its own: its log lines start with an ISO-8601 date-time. */
class DeviceProxyLogTest {
    @Test
    void logLinesCarryTheirDateAndTime() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), DeviceProxyMain.class.getName(),
                "--transport", "mqtt", "--mqtt-port", "1", "--map", "ssh=localhost:22");
        // the connection string from the environment, as the documentation advises; no hub is needed to log
        builder.environment().put("FERRYHUB_DEVICE_CONNECTION_STRING",
                "HostName=127.0.0.1;DeviceId=log-dev;SharedAccessKey="
                        + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=");
        List<String> lines = ProgramLog.untilStarted(builder, "device proxy serving streams [ssh]",
                Duration.ofSeconds(60));
        assertTrue(lines.stream().allMatch(l -> ProgramLog.TIMESTAMPED.matcher(l).matches()), String.join("\n", lines));
    }
}
