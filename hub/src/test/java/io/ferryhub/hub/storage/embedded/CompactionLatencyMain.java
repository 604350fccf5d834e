package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Measures how long commits wait while the store compacts a large data set: fills {@code keys} values of
 * {@code valueBytes}, then overwrites random keys from {@code writers} threads (each commit waits for its
 * acknowledgement) until the first compaction has finished. Reports the longest commit before the compaction started
 * (the baseline of the same run) and the longest one overlapping it, the compaction's start and end taken from the
 * store's own stage hook. Not a test: run by hand with a large heap.
 *
 * <p>Arguments: data directory (must not exist), keys (default 500000), value bytes (500), writers (8).
 */
public final class CompactionLatencyMain {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 500_000;
        int valueBytes = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int writers = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        measureIndexCopy(1_000_000);
        try (JournalStore store = JournalStore.open(dir)) {
            byte[] value = new byte[valueBytes];
            long fillStart = System.nanoTime();
            List<CompletableFuture<Void>> window = new ArrayList<>();
            for (int i = 0; i < keys; i++) {
                window.add(store.commit(List.of(Mutation.put("devices", key(i), value))));
                if (window.size() == 2000) {
                    CompletableFuture.allOf(window.toArray(new CompletableFuture[0])).join();
                    window.clear();
                }
            }
            CompletableFuture.allOf(window.toArray(new CompletableFuture[0])).join();
            System.out.printf("filled %d keys in %.1f s, journal %d MB%n", keys,
                    (System.nanoTime() - fillStart) / 1e9, filesBytes(dir) / (1024 * 1024));

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong compactionStart = new AtomicLong(Long.MAX_VALUE);
            AtomicLong compactionEnd = new AtomicLong(Long.MAX_VALUE);
            CountDownLatch compacted = new CountDownLatch(1);
            store.onCompactionStage(stage -> {
                if (stage == JournalStore.CompactionStage.SWITCHED) {
                    compactionStart.compareAndSet(Long.MAX_VALUE, System.nanoTime());
                } else if (stage == JournalStore.CompactionStage.DONE
                        && compactionEnd.compareAndSet(Long.MAX_VALUE, System.nanoTime())) {
                    compacted.countDown();
                }
            });
            AtomicLong maxBefore = new AtomicLong();
            AtomicLong maxDuring = new AtomicLong();
            AtomicLong commits = new AtomicLong();
            AtomicLong commitsDuring = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                Thread t = new Thread(() -> {
                    while (!stop.get()) {
                        String k = key(ThreadLocalRandom.current().nextInt(keys));
                        long started = System.nanoTime();
                        store.commit(List.of(Mutation.put("devices", k, value))).join();
                        long ended = System.nanoTime();
                        long latency = ended - started;
                        commits.incrementAndGet();
                        if (ended < compactionStart.get()) {
                            maxBefore.accumulateAndGet(latency, Math::max);
                        } else if (started <= compactionEnd.get()) {
                            maxDuring.accumulateAndGet(latency, Math::max);
                            commitsDuring.incrementAndGet();
                        }
                    }
                }, "writer-" + w);
                t.start();
                threads.add(t);
            }
            // the first compaction, as the store's own stages mark it: commits switch to the next journal, ..., the
            // older generation's files are gone
            if (!compacted.await(1, TimeUnit.HOURS)) {
                throw new IllegalStateException("no compaction within an hour of overwriting");
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            System.out.printf("compaction took about %d ms (from its stages), %d commits overlapped it%n",
                    (compactionEnd.get() - compactionStart.get()) / 1_000_000, commitsDuring.get());
            System.out.printf("longest commit before compaction: %.1f ms; during compaction: %.1f ms "
                            + "(ratio %.1f); %d commits in the measuring phase%n",
                    maxBefore.get() / 1e6, maxDuring.get() / 1e6, (double) maxDuring.get() / maxBefore.get(),
                    commits.get());
        }
    }

    /** What a consistent snapshot by copying the index would cost: a skip-list clone and a copy to arrays. */
    private static void measureIndexCopy(int entries) {
        ConcurrentSkipListMap<String, byte[]> map = new ConcurrentSkipListMap<>();
        byte[] v = new byte[1];
        for (int i = 0; i < entries; i++) {
            map.put(key(i), v);
        }
        for (int run = 0; run < 3; run++) {
            long t0 = System.nanoTime();
            ConcurrentSkipListMap<String, byte[]> clone = map.clone();
            long t1 = System.nanoTime();
            String[] ks = new String[map.size()];
            byte[][] vs = new byte[ks.length][];
            int i = 0;
            for (Map.Entry<String, byte[]> e : map.entrySet()) {
                ks[i] = e.getKey();
                vs[i++] = e.getValue();
            }
            long t2 = System.nanoTime();
            System.out.printf("copy of a %d-entry index: skip-list clone %.1f ms, arrays %.1f ms (%d)%n", entries,
                    (t1 - t0) / 1e6, (t2 - t1) / 1e6, clone.size() + vs.length);
        }
    }

    private static String key(int i) {
        return String.format("device-%08d", i);
    }

    private static long filesBytes(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
