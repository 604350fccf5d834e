package io.ferryhub.compat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A plain user starting the hub on IoT Hub's default ports gets one line saying why it can't and how to fix it.
 * Runs the launcher jar as the unprivileged user {@code nobody} (this suite runs as root for port 443).
 */
class PrivilegedPortAdviceTest {
    @Test
    void aPlainUserGetsOneLineWithTheFixes() throws Exception {
        Path jar = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent().resolve("cli/target/iothub.jar");
        Assumptions.assumeTrue(Files.isReadable(jar), "the launcher jar is built by the cli module");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(
                Path.of("/usr/sbin/runuser")), "needs root to run the hub as another user");
        Path dataDir = Files.createTempDirectory("hub-as-nobody");
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        try {
            Process hub = new ProcessBuilder(List.of("/usr/sbin/runuser", "-u", "nobody", "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                    "start", "--data-dir", dataDir.resolve("data").toString(), "--mqtt-port", "0"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String stderr = new String(hub.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(hub.waitFor(60, TimeUnit.SECONDS), "the hub should give up, not hang");
            Assumptions.assumeFalse(stderr.contains("Unable to access jarfile"), "nobody cannot read the build tree");
            assertEquals(1, hub.exitValue(), stderr);
            List<String> reasons = stderr.lines().filter(l -> l.startsWith("iothub: ")).toList();
            assertEquals(1, reasons.size(), stderr);
            String line = reasons.get(0);
            assertTrue(line.contains("cannot bind the https port 443"), line);
            assertTrue(line.contains("Run as root") && line.contains("setcap cap_net_bind_service")
                    && line.contains("--https-port"), line);
            assertFalse(line.contains("SharedAccessKey"), line);
        } finally {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
