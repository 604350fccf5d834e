package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM commits as fast as it can into a store that compacts every few hundred kilobytes and is killed with
 * SIGKILL; the reopened store holds every acknowledged commit. The child records each acknowledgement with one
 * write call to a file, which the kill cannot take back, before it starts its next commit. Three kills in a row on the same directory, so
 * recoveries of recovered stores are covered too.
 */
class JournalKillTest {
    private static final int WRITERS = 4;
    private static final int SLOTS = 50;
    private static final long MIN_COMPACTION_BYTES = 64 * 1024;
    private static final String PADDING = "p".repeat(200);
    private static final Pattern JOURNAL = Pattern.compile("journal-(\\d{8})\\.log");

    @TempDir
    Path dir;
    @TempDir
    Path logs;

    /** Writer {@code w}'s operation number {@code i} in {@code round}: a put, or every seventh a delete. */
    static Mutation operation(int round, int w, int i) {
        String key = "r" + round + "w" + w + "-" + (i % SLOTS);
        return i % 7 == 3 ? Mutation.delete("ns", key) : Mutation.put("ns", key,
                (w + "-" + i + "-" + PADDING).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void everyAcknowledgedCommitSurvivesKillMinus9DuringFrequentCompactions() throws Exception {
        Map<String, Optional<String>> settled = new HashMap<>();
        int generation = 0;
        for (int round = 0; round < 3; round++) {
            Path stderr = logs.resolve("child-" + round + ".log");
            Path ackDir = Files.createDirectory(logs.resolve("acks-" + round));
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString(),
                    Integer.toString(round), ackDir.toString())
                    .redirectError(stderr.toFile()).start();
            AtomicIntegerArray lastAck = new AtomicIntegerArray(WRITERS);
            AtomicInteger acks = new AtomicInteger();
            int killAfter = 4000 + 1000 * round;
            CountDownLatch enough = new CountDownLatch(1);
            CountDownLatch ready = new CountDownLatch(1);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        String[] f = line.split(" ");
                        if (f[0].equals("READY")) {
                            ready.countDown();
                        } else if (f[0].equals("A") && acks.addAndGet(100) >= killAfter) {
                            enough.countDown(); // progress only: the acknowledgements are read from the files
                        }
                    }
                } catch (IOException e) {
                    // the pipe closes with the child
                }
            }, "child-reader");
            reader.start();
            try {
                assertTrue(ready.await(60, TimeUnit.SECONDS), "child started: " + Files.readString(stderr));
                assertTrue(enough.await(120, TimeUnit.SECONDS), "acknowledged " + acks.get());
            } finally {
                child.destroyForcibly(); // SIGKILL: commits in flight, maybe mid-compaction
                child.waitFor(30, TimeUnit.SECONDS);
                reader.join(30_000); // the acknowledgements still in the pipe are read to its end
            }
            for (int w = 0; w < WRITERS; w++) {
                List<String> lines = Files.readAllLines(ackDir.resolve("acks-" + w));
                lastAck.set(w, lines.isEmpty() ? -1 : Integer.parseInt(lines.get(lines.size() - 1)));
            }
            int newest = newestGeneration();
            assertTrue(newest >= generation + 2, "compacted during round " + round + ": generation " + newest);
            generation = newest;
            try (JournalStore store = JournalStore.open(dir)) {
                for (Map.Entry<String, Optional<String>> e : settled.entrySet()) {
                    assertEquals(e.getValue(), value(store, e.getKey()), e.getKey() + " from an earlier round");
                }
                for (int w = 0; w < WRITERS; w++) {
                    int acked = lastAck.get(w);
                    Mutation inFlight = operation(round, w, acked + 1);
                    for (int slot = 0; slot < SLOTS; slot++) {
                        Optional<String> expected = Optional.empty();
                        String key = null;
                        for (int i = acked; i >= 0 && i > acked - SLOTS; i--) {
                            Mutation m = operation(round, w, i);
                            if (m.key().endsWith("-" + slot)) {
                                key = m.key();
                                expected = text(m);
                                break;
                            }
                        }
                        if (key == null) {
                            key = "r" + round + "w" + w + "-" + slot;
                        }
                        Optional<String> found = value(store, key);
                        boolean maybeInFlight = inFlight.key().equals(key) && found.equals(text(inFlight));
                        assertTrue(found.equals(expected) || maybeInFlight,
                                key + ": expected " + expected.map(v -> v.substring(0, 10)) + " (last ack "
                                        + acked + "), found " + found.map(v -> v.substring(0, 10)));
                        settled.put(key, found);
                    }
                }
            }
        }
    }

    private static Optional<String> text(Mutation m) {
        return Optional.ofNullable(m.value()).map(v -> new String(v, StandardCharsets.UTF_8));
    }

    private static Optional<String> value(JournalStore store, String key) {
        return store.get("ns", key).map(v -> new String(v, StandardCharsets.UTF_8));
    }

    private int newestGeneration() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> JOURNAL.matcher(p.getFileName().toString())).filter(Matcher::matches)
                    .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(0);
        }
    }

    /** Commits {@link #operation}s one after another per writer thread, printing each acknowledgement. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            JournalStore store = JournalStore.open(Path.of(args[0]), MIN_COMPACTION_BYTES);
            int round = Integer.parseInt(args[1]);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            synchronized (out) {
                out.println("READY");
                out.flush();
            }
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                FileOutputStream acks = new FileOutputStream(Path.of(args[2]).resolve("acks-" + w).toFile());
                Thread t = new Thread(() -> {
                    for (int i = 0; ; i++) {
                        try {
                            store.commit(List.of(operation(round, writer, i))).get();
                        } catch (Exception e) {
                            return;
                        }
                        try {
                            // one write call per acknowledgement: what it wrote outlives a SIGKILL of this process
                            acks.write((i + "\n").getBytes(StandardCharsets.US_ASCII));
                        } catch (IOException e) {
                            return;
                        }
                        if (i % 100 == 0) {
                            synchronized (out) {
                                out.println("A " + writer + " " + i);
                                out.flush();
                            }
                        }
                    }
                }, "writer-" + w);
                t.start();
            }
            Thread.currentThread().join(); // until killed
        }
    }
}
