package io.ferryhub.serviceproxy;

import io.ferryhub.testsupport.ProgramLog;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The service proxy as a user runs it, in a process of its own: its log lines start with an ISO-8601 date-time. */
class ServiceProxyLogTest {
    @Test
    void logLinesCarryTheirDateAndTime() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ServiceProxyMain.class.getName(),
                "--hub-port", "1", "--device", "log-dev", "--listen", "127.0.0.1:0");
        // the connection string from the environment, as the documentation advises; no hub is needed to log
        builder.environment().put("FERRYHUB_SERVICE_CONNECTION_STRING",
                "HostName=127.0.0.1;SharedAccessKeyName=service;SharedAccessKey="
                        + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=");
        List<String> lines = ProgramLog.untilStarted(builder, "service proxy listening on", Duration.ofSeconds(60));
        assertTrue(lines.stream().allMatch(l -> ProgramLog.TIMESTAMPED.matcher(l).matches()), String.join("\n", lines));
    }
}
