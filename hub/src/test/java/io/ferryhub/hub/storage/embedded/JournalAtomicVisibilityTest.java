package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Entry;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A commit that writes several keys is seen whole or not at all: readers scanning while commits are applied never
 * see some keys of a commit with its new value and others with the previous one.
 */
class JournalAtomicVisibilityTest {
    private static final int KEYS = 16;
    private static final int COMMITS = 20_000;

    @TempDir
    Path dir;

    @Test
    void readersNeverSeeHalfACommit() throws Exception {
        try (JournalStore store = JournalStore.open(dir)) {
            store.commit(commitOf(0)).join();
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicLong scans = new AtomicLong();
            AtomicLong newerThanFirst = new AtomicLong();
            ConcurrentLinkedQueue<String> torn = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                boolean prefix = r == 1;
                Thread reader = new Thread(() -> {
                    while (writing.get() && torn.size() < 10) {
                        List<Entry> seen = prefix ? store.scanPrefix("ns", "key-", KEYS)
                                : store.scan("ns", null, KEYS);
                        scans.incrementAndGet();
                        List<String> values = seen.stream()
                                .map(e -> new String(e.value(), StandardCharsets.UTF_8)).toList();
                        if (values.size() != KEYS || values.stream().distinct().count() != 1) {
                            torn.add(values.toString());
                        } else if (!values.get(0).equals("0")) {
                            newerThanFirst.incrementAndGet();
                        }
                    }
                }, "reader-" + r);
                reader.start();
                readers.add(reader);
            }
            List<CompletableFuture<Void>> futures = new ArrayList<>(COMMITS);
            for (int i = 1; i <= COMMITS; i++) {
                futures.add(store.commit(commitOf(i)));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).join();
            writing.set(false);
            for (Thread reader : readers) {
                reader.join(30_000);
            }
            assertTrue(torn.isEmpty(), "scans saw parts of a commit: " + List.copyOf(torn));
            assertTrue(scans.get() > 0 && newerThanFirst.get() > 0,
                    "the readers ran while commits were applied (" + scans + " scans)");
            assertEquals(List.of(String.valueOf(COMMITS)), store.scan("ns", null, KEYS).stream()
                    .map(e -> new String(e.value(), StandardCharsets.UTF_8)).distinct().toList());
        }
    }

    /** Every key of the namespace set to {@code i}: a reader must see one value across all of them. */
    private static List<Mutation> commitOf(int i) {
        List<Mutation> mutations = new ArrayList<>(KEYS);
        for (int k = 0; k < KEYS; k++) {
            mutations.add(Mutation.put("ns", String.format("key-%02d", k),
                    String.valueOf(i).getBytes(StandardCharsets.UTF_8)));
        }
        return mutations;
    }
}
