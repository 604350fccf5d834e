package io.ferryhub.hub.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hub started with the most permissive umask (000, as some service managers and containers leave it) still
 * creates its data directory and everything in it owner-only: the modes come from the hub, not the umask.
 */
class UmaskIndependenceTest {
    @TempDir
    Path parent;

    @Test
    void aHubStartedWithUmask000CreatesOwnerOnlyFiles() throws Exception {
        Path dataDir = parent.resolve("data");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder("/bin/sh", "-c", "umask 000 && exec \"$@\"", "sh", java, "-cp",
                System.getProperty("java.class.path"), ChildHub.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("READY "), "the child hub started: " + ready);
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        // the umask really was 000 for that process: a file its shell creates is open to everyone
        Path probe = parent.resolve("probe");
        Process shell = new ProcessBuilder("/bin/sh", "-c", "umask 000 && : > \"$0\"", probe.toString()).start();
        assertTrue(shell.waitFor(30, TimeUnit.SECONDS));
        assertEquals("rw-rw-rw-", mode(probe));

        List<String> open = new ArrayList<>();
        int entries = 0;
        try (Stream<Path> all = Files.walk(dataDir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                entries++;
                String expected = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwx------" : "rw-------";
                if (!mode(p).equals(expected)) {
                    open.add(parent.relativize(p).toString().replace(File.separatorChar, '/') + " " + mode(p));
                }
            }
        }
        assertTrue(entries > 10 && Files.exists(dataDir.resolve("registry/journal-00000001.log")),
                "the hub wrote its files: " + entries);
        assertEquals(List.of(), open, "entries open to other users");
    }

    private static String mode(Path p) throws java.io.IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }
}
