package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal holds every key of the hub: its directory and every file of every generation (the next journal and
 * the base a compaction writes, as well as the first journal and the lock file) are created owner-only.
 */
class JournalFilePermissionsTest {
    @TempDir
    Path parent;

    @Test
    void everyGenerationsFilesAreOwnerOnly() throws Exception {
        Path dir = parent.resolve("registry");
        CountDownLatch compacted = new CountDownLatch(1);
        try (JournalStore store = JournalStore.open(dir, 64 * 1024)) {
            store.onCompactionStage(stage -> {
                if (stage == JournalStore.CompactionStage.DONE) {
                    compacted.countDown();
                }
            });
            byte[] value = "k".repeat(1000).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; compacted.getCount() > 0 && i < 10_000; i++) {
                store.commit(List.of(Mutation.put("keys", "key-" + (i % 10), value))).join();
            }
            assertTrue(compacted.await(30, TimeUnit.SECONDS), "a compaction ran");
        }
        Map<String, String> modes = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                modes.put(f.getFileName().toString(),
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS)));
            }
        }
        // commits race the compaction that completed: a later one may have begun, so the generation may be higher
        assertEquals("rw-------", modes.get("LOCK"), "the lock file: " + modes);
        assertTrue(modes.keySet().stream().anyMatch(n -> n.startsWith("base-") && !n.equals("base-00000001.snap")),
                "a compacted base: " + modes);
        assertTrue(modes.keySet().stream().anyMatch(n -> n.startsWith("journal-")), "a journal: " + modes);
        modes.forEach((name, mode) -> assertEquals("rw-------", mode, name));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }
}
