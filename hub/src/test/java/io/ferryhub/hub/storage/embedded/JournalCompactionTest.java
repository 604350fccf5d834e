package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;
import io.ferryhub.hub.storage.embedded.JournalStore.CompactionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compaction runs beside the writer: commits complete while it is stopped at any of its stages, and the files a
 * crash at that stage would leave (copied while it is stopped) recover exactly the acknowledged data.
 */
class JournalCompactionTest {
    private static final long MIN_COMPACTION_BYTES = 64 * 1024;
    private static final String PADDING = "x".repeat(1000);

    @TempDir
    Path dir;
    @TempDir
    Path images;

    /** The data the store acknowledged, per namespace. */
    private final Map<String, TreeMap<String, String>> acknowledged = new TreeMap<>();
    private int rounds;

    /** Stops the first compaction at one stage until released; closing it releases (a failed test does not hang). */
    private static final class StopAt implements Consumer<CompactionStage>, AutoCloseable {
        final CompactionStage stage;
        final CountDownLatch switched = new CountDownLatch(1);
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch done = new CountDownLatch(1);

        StopAt(CompactionStage stage) {
            this.stage = stage;
        }

        @Override
        public void accept(CompactionStage s) {
            if (s == CompactionStage.SWITCHED && switched.getCount() == 0) {
                awaitRelease(); // a later compaction waits too, so the files stay as the first one left them
            }
            if (s == CompactionStage.SWITCHED) {
                switched.countDown();
            }
            if (s == stage && reached.getCount() > 0) {
                reached.countDown();
                awaitRelease();
            }
            if (s == CompactionStage.DONE) {
                done.countDown();
            }
        }

        @Override
        public void close() {
            release.countDown();
        }

        private void awaitRelease() {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(CompactionStage.class)
    void commitsCompleteDuringCompactionAndACrashAtEachStageRecoversThem(CompactionStage stage) throws Exception {
        StopAt stop = new StopAt(stage);
        try (JournalStore store = JournalStore.open(dir, MIN_COMPACTION_BYTES); StopAt held = stop) {
            store.onCompactionStage(stop);
            while (stop.switched.getCount() > 0) {
                assertTrue(rounds < 10_000, "no compaction started");
                writeRound(store);
            }
            assertTrue(stop.reached.await(60, TimeUnit.SECONDS), "compaction reached " + stage);
            // the compactor is held at the stage: commits keep completing (a stall times out here)
            for (int i = 0; i < 30; i++) {
                writeRound(store);
            }
            Path image = copyOf(dir, "at-" + stage);
            if (stage == CompactionStage.BASE_WRITTEN) {
                Path partial = copyOf(dir, "partial-" + stage);
                Path tmp = onlyFile(partial, ".snap.tmp");
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ch.truncate(ch.size() / 2);
                }
                appendTornRecord(newestJournal(partial));
                assertExactlyAcknowledged(partial);
            }
            if (stage == CompactionStage.BASE_RENAMED) {
                assertEquals(2, count(image, ".log"), "the previous generation is still there");
            }
            assertExactlyAcknowledged(image);
            stop.release.countDown();
            assertTrue(stop.done.await(60, TimeUnit.SECONDS), "compaction finished");
            writeRound(store);
        }
        assertEquals(1, count(dir, ".log"), "one generation after the compaction");
        assertEquals(1, count(dir, ".snap"), "with its base");
        assertExactlyAcknowledged(dir);
    }

    /** After a crash left two generations, the store works on and its next compaction removes the older one. */
    @Test
    void aRecoveredTwoGenerationChainIsCompactedAway() throws Exception {
        StopAt stop = new StopAt(CompactionStage.SWITCHED);
        try (JournalStore store = JournalStore.open(dir, MIN_COMPACTION_BYTES); StopAt held = stop) {
            store.onCompactionStage(stop);
            while (stop.switched.getCount() > 0) {
                assertTrue(rounds < 10_000, "no compaction started");
                writeRound(store);
            }
            writeRound(store);
            Path image = copyOf(dir, "crashed");
            stop.release.countDown();
            assertTrue(stop.done.await(60, TimeUnit.SECONDS));
            dir = image;
        }
        StopAt next = new StopAt(CompactionStage.DONE);
        try (JournalStore store = JournalStore.open(dir, MIN_COMPACTION_BYTES); StopAt held = next) {
            assertEquals(2, count(dir, ".log"));
            assertEquals(0, count(dir, ".snap"));
            store.onCompactionStage(next);
            next.release.countDown();
            while (next.done.getCount() > 0) {
                assertTrue(rounds < 20_000, "no compaction started");
                writeRound(store);
            }
        }
        assertEquals(1, count(dir, ".log"));
        assertEquals(1, count(dir, ".snap"));
        assertExactlyAcknowledged(dir);
    }

    /** A kill while the next journal was being created leaves it shorter than its header: it holds no commit. */
    @Test
    void aJournalCutOffWhileBeingCreatedIsTakenAsEmpty() throws Exception {
        try (JournalStore store = JournalStore.open(dir, MIN_COMPACTION_BYTES)) {
            for (int i = 0; i < 3; i++) {
                writeRound(store);
            }
        }
        String newest = newestJournal(dir).getFileName().toString();
        int next = Integer.parseInt(newest.substring("journal-".length(), newest.length() - ".log".length())) + 1;
        Files.write(dir.resolve(String.format("journal-%08d.log", next)), bytes("FHJ"));
        assertExactlyAcknowledged(dir);
        try (JournalStore store = JournalStore.open(dir, MIN_COMPACTION_BYTES)) {
            writeRound(store);
        }
        assertExactlyAcknowledged(dir);
    }

    /** Earlier versions compacted into a self-contained journal of a later generation, with no base beside it. */
    @Test
    void aSelfContainedJournalOfAnEarlierVersionOpens() throws Exception {
        try (JournalStore store = JournalStore.open(dir)) {
            for (int i = 0; i < 3; i++) {
                writeRound(store);
            }
        }
        Files.move(dir.resolve("journal-00000001.log"), dir.resolve("journal-00000007.log"));
        assertExactlyAcknowledged(dir);
        try (JournalStore store = JournalStore.open(dir)) {
            writeRound(store);
        }
        assertEquals(1, count(dir, ".log"));
        assertExactlyAcknowledged(dir);
    }

    /**
     * One round: overwrites 50 keys, deletes one, adds one in a second namespace; every commit is acknowledged
     * (or the test fails after 30 s) and only then recorded as acknowledged.
     */
    private void writeRound(JournalStore store) throws Exception {
        int round = rounds++;
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        List<Runnable> effects = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String key = "k" + i;
            String value = round + "-" + i + "-" + PADDING;
            futures.add(store.commit(List.of(Mutation.put("ns", key, bytes(value)))));
            effects.add(() -> acknowledged.computeIfAbsent("ns", n -> new TreeMap<>()).put(key, value));
        }
        String deleted = "k" + (round % 50);
        String added = String.format("r%06d", round);
        futures.add(store.commit(List.of(Mutation.delete("ns", deleted), Mutation.put("other", added, bytes(added)))));
        effects.add(() -> {
            acknowledged.computeIfAbsent("ns", n -> new TreeMap<>()).remove(deleted);
            acknowledged.computeIfAbsent("other", n -> new TreeMap<>()).put(added, added);
        });
        for (int i = 0; i < futures.size(); i++) {
            futures.get(i).get(30, TimeUnit.SECONDS);
            effects.get(i).run();
        }
    }

    private void assertExactlyAcknowledged(Path data) throws IOException {
        try (JournalStore store = JournalStore.open(data)) {
            for (Map.Entry<String, TreeMap<String, String>> ns : acknowledged.entrySet()) {
                Map<String, String> found = new TreeMap<>();
                for (KeyValueStore.Entry e : store.scan(ns.getKey(), null, Integer.MAX_VALUE)) {
                    found.put(e.key(), new String(e.value(), StandardCharsets.UTF_8));
                }
                assertEquals(ns.getValue(), found, "namespace " + ns.getKey() + " in " + data.getFileName());
            }
        }
    }

    private Path copyOf(Path from, String name) throws IOException {
        Path to = Files.createDirectory(images.resolve(name));
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (!f.getFileName().toString().equals("LOCK")) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
        return to;
    }

    private static void appendTornRecord(Path journal) throws IOException {
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(12).putInt(500).putInt(1234).putInt(1).flip());
        }
    }

    private static Path newestJournal(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log")).max(Path::compareTo).orElseThrow();
        }
    }

    private static Path onlyFile(Path data, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(data)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
            assertEquals(1, found.size(), found.toString());
            return found.get(0);
        }
    }

    private static long count(Path data, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(data)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
