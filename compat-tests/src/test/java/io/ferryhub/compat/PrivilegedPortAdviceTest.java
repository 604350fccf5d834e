package io.ferryhub.compat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
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
        Path built = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent().resolve("cli/target");
        assertTrue(Files.isReadable(built.resolve("iothub.jar")), "the launcher jar is built by the cli module");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) && Files.isExecutable(
                Path.of("/usr/sbin/runuser")), "needs root to run the hub as another user");
        Path dataDir = Files.createTempDirectory("hub-as-nobody");
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        try {
            // the build tree may sit where nobody cannot read (e.g. under /root): run a copy of the launcher
            Path jar = copyLauncher(built, dataDir.resolve("launcher"));
            Process hub = new ProcessBuilder(List.of("/usr/sbin/runuser", "-u", "nobody", "--",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                    "start", "--data-dir", dataDir.resolve("data").toString(), "--mqtt-port", "0"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String stderr = new String(hub.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(hub.waitFor(60, TimeUnit.SECONDS), "the hub should give up, not hang");
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

    private static Path copyLauncher(Path built, Path target) throws IOException {
        Files.createDirectories(target.resolve("lib"));
        try (Stream<Path> libs = Files.list(built.resolve("lib"))) {
            for (Path lib : (Iterable<Path>) libs::iterator) {
                Files.copy(lib, target.resolve("lib").resolve(lib.getFileName()));
            }
        }
        Path jar = Files.copy(built.resolve("iothub.jar"), target.resolve("iothub.jar"));
        try (Stream<Path> files = Files.walk(target)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return jar;
    }
}
