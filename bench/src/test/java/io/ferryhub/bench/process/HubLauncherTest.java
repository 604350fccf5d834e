package io.ferryhub.bench.process;

import io.ferryhub.bench.BenchArgs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Benchmarks start the hub with the JVM flags scripts/iothub uses, then the benchmark's own. */
class HubLauncherTest {
    @TempDir
    Path dir;

    @Test
    void launcherDefaultsAreTheFilesNonCommentLines() throws Exception {
        Path file = dir.resolve("hub-jvm-defaults");
        Files.writeString(file, "# why these flags\n-XX:+ExitOnOutOfMemoryError -XX:MaxHeapFreeRatio=30\n");
        assertEquals("-XX:+ExitOnOutOfMemoryError -XX:MaxHeapFreeRatio=30", HubProcess.Launcher.launcherDefaults(file));
        assertEquals("", HubProcess.Launcher.launcherDefaults(dir.resolve("missing")));
    }

    @Test
    void theBenchmarksFlagsComeAfterTheDefaultsSoTheyWin() {
        HubProcess.Launcher launcher = HubProcess.Launcher.fromArgs(new BenchArgs(new String[]{
                "--hub-jvm-defaults", "-XX:MaxHeapFreeRatio=30", "--hub-jvm", "-XX:MaxHeapFreeRatio=70 -Xmx1g"}));
        assertEquals(List.of("-XX:MaxHeapFreeRatio=30", "-XX:MaxHeapFreeRatio=70", "-Xmx1g"), launcher.jvmOptions());
        List<String> command = launcher.command(List.of("start"));
        assertTrue(command.indexOf("-Xmx1g") < command.indexOf("-jar"), command.toString());
    }

    @Test
    void theRepositorysDefaultsFileIsTheOneScriptsIothubReads() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        String flags = HubProcess.Launcher.launcherDefaults(root.resolve("scripts/lib/hub-jvm-defaults"));
        assertTrue(flags.contains("-XX:+ExitOnOutOfMemoryError"), flags);
        assertTrue(Files.readString(root.resolve("scripts/iothub")).contains("scripts/lib/hub-jvm-defaults"));
    }
}
