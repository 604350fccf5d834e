package io.ferryhub.gateway;

import io.ferryhub.testsupport.ProgramLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stand-alone gateway as a user runs it, in a process of its own: its log lines start with a date-time. */
class GatewayLogTest {
    @Test
    void logLinesCarryTheirDateAndTime(@TempDir Path dir) throws Exception {
        run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "key.pem", "-out", "cert.pem", "-days", "1", "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("stream-token.key"), Base64.getEncoder().encodeToString(new byte[32]));
        ProcessBuilder gateway = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName(),
                "--tls-cert", dir.resolve("cert.pem").toString(), "--tls-key", dir.resolve("key.pem").toString(),
                "--token-key-file", dir.resolve("stream-token.key").toString(), "--listen", "127.0.0.1:0");
        List<String> lines = ProgramLog.untilStarted(gateway, "streaming gateway listening on", Duration.ofSeconds(60));
        assertTrue(lines.stream().allMatch(l -> ProgramLog.TIMESTAMPED.matcher(l).matches()), String.join("\n", lines));
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl did not finish");
        assertEquals(0, p.exitValue(), output);
    }
}
