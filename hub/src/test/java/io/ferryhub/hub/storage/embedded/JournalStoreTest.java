package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalStoreTest {
    @TempDir
    Path dir;

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aCommitTheWriterCannotEncodeFailsAloneInsteadOfStoppingTheWriter() throws Exception {
        try (JournalStore store = JournalStore.open(dir)) {
            CompletableFuture<Void> broken = store.commit(List.of(new Mutation(null, "k", bytes("v"))));
            java.util.concurrent.ExecutionException failed = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> broken.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof NullPointerException, failed.getCause().toString());
            // the writer lives on: later commits are written
            store.commit(List.of(Mutation.put("ns", "after", bytes("ok")))).get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertArrayEquals(bytes("ok"), store.get("ns", "after").orElseThrow());
        }
    }

    @Test
    void concurrentCommitsShareFsyncsAndSurviveReopen() throws Exception {
        int commits = 2000;
        try (JournalStore store = JournalStore.open(dir)) {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < commits; i++) {
                futures.add(store.commit(List.of(Mutation.put("ns", String.format("k%05d", i), bytes("v" + i)))));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
            assertTrue(store.fsyncCount() < commits / 4, "group commit: " + store.fsyncCount() + " fsyncs");
            store.commit(List.of(Mutation.delete("ns", "k00007"), Mutation.put("other", "x", bytes("y")))).join();
        }
        try (JournalStore store = JournalStore.open(dir)) {
            assertEquals(commits - 1, store.count("ns"));
            assertArrayEquals(bytes("v1999"), store.get("ns", "k01999").orElseThrow());
            assertTrue(store.get("ns", "k00007").isEmpty());
            assertArrayEquals(bytes("y"), store.get("other", "x").orElseThrow());
            List<String> page = store.scan("ns", "k00005", 3).stream().map(e -> e.key()).toList();
            assertEquals(List.of("k00006", "k00008", "k00009"), page);
            assertEquals(List.of("k00010", "k00011"), store.scanPrefix("ns", "k0001", 2).stream()
                    .map(e -> e.key()).toList());
        }
    }

    @Test
    void tornTailIsCutAndEarlierCommitsKept() throws Exception {
        try (JournalStore store = JournalStore.open(dir)) {
            store.commit(List.of(Mutation.put("ns", "a", bytes("1")))).join();
            store.commit(List.of(Mutation.put("ns", "b", bytes("2")))).join();
        }
        Path journal = onlyJournal();
        long goodSize = Files.size(journal);
        // a half-written commit: a record header promising more bytes than follow
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(12).putInt(500).putInt(1234).putInt(1).flip());
        }
        try (JournalStore store = JournalStore.open(dir)) {
            assertEquals(2, store.count("ns"));
            assertEquals(goodSize, Files.size(journal));
            store.commit(List.of(Mutation.put("ns", "c", bytes("3")))).join();
        }
        // a corrupt record (bit flip inside the last commit) is cut too
        try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[]{(byte) 0xFF}), Files.size(journal) - 2);
        }
        try (JournalStore store = JournalStore.open(dir)) {
            assertEquals(2, store.count("ns"));
            assertTrue(store.get("ns", "c").isEmpty());
        }
    }

    @Test
    void compactionKeepsOnlyLiveDataAndSwitchesGeneration() throws Exception {
        byte[] value = new byte[1000];
        try (JournalStore store = JournalStore.open(dir, 256 * 1024)) {
            for (int round = 0; round < 20; round++) {
                List<CompletableFuture<Void>> futures = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    futures.add(store.commit(List.of(Mutation.put("ns", "k" + i, value))));
                }
                CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
            }
            store.commit(List.of(Mutation.put("ns", "last", bytes("x")))).join();
        }
        Path journal = onlyJournal();
        assertFalse(journal.getFileName().toString().equals("journal-00000001.log"), "compacted at least once");
        Path base = dir.resolve(journal.getFileName().toString().replace("journal-", "base-").replace(".log", ".snap"));
        // 51 live values of about 1 kB each, of the 1 MB written
        assertTrue(Files.size(base) < 64 * 1024, "the base holds the live data only: " + Files.size(base));
        try (JournalStore store = JournalStore.open(dir)) {
            assertEquals(51, store.count("ns"));
            assertArrayEquals(value, store.get("ns", "k49").orElseThrow());
        }
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() throws Exception {
        try (JournalStore store = JournalStore.open(dir)) {
            IOException e = assertThrows(IOException.class, () -> JournalStore.open(dir));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void commitsAfterCloseFail() throws Exception {
        JournalStore store = JournalStore.open(dir);
        store.close();
        assertThrows(Exception.class, () -> store.commit(List.of(Mutation.put("ns", "a", bytes("1")))).join());
    }

    /** Replay reads in chunks: records crossing chunk boundaries and records larger than a chunk come back whole. */
    @Test
    void recordsAcrossAndBeyondReadChunksReplay() throws Exception {
        java.util.Random random = new java.util.Random(7);
        List<byte[]> values = new ArrayList<>();
        try (JournalStore store = JournalStore.open(dir)) {
            for (int i = 0; i < 200; i++) {
                byte[] v = new byte[100_003];
                random.nextBytes(v);
                values.add(v);
                store.commit(List.of(Mutation.put("ns", String.format("k%03d", i), v))).join();
            }
            byte[] huge = new byte[9 * 1024 * 1024];
            random.nextBytes(huge);
            values.add(huge);
            store.commit(List.of(Mutation.put("ns", "huge", huge))).join();
            store.commit(List.of(Mutation.put("ns", "last", bytes("end")))).join();
        }
        try (JournalStore store = JournalStore.open(dir)) {
            for (int i = 0; i < 200; i++) {
                assertArrayEquals(values.get(i), store.get("ns", String.format("k%03d", i)).orElseThrow(), "k" + i);
            }
            assertArrayEquals(values.get(200), store.get("ns", "huge").orElseThrow());
            assertArrayEquals(bytes("end"), store.get("ns", "last").orElseThrow());
        }
    }

    private Path onlyJournal() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> journals = files.filter(p -> p.getFileName().toString().endsWith(".log")).toList();
            assertEquals(1, journals.size(), journals.toString());
            return journals.get(0);
        }
    }
}
