package io.ferryhub.hub.storage.embedded;

import io.ferryhub.hub.storage.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded key/value engine: an append-only journal on disk and the whole data set in memory.
 *
 * <p>Writes go through one writer thread that takes every commit waiting at that moment, writes them with one
 * write call, fsyncs once and only then makes them visible and completes their futures (group commit): under load
 * one fsync covers hundreds of commits. When the journal has grown to several times the live data it is compacted:
 * the live data is written to the next generation's file, fsynced, atomically renamed into place and the old file
 * deleted. Start-up replays the newest complete generation and cuts off a torn tail.
 *
 * <p>Reads are served from sorted in-memory maps, so listing with a continuation is a range scan.
 */
public final class JournalStore implements KeyValueStore {
    private static final Logger log = LoggerFactory.getLogger(JournalStore.class);
    private static final Pattern JOURNAL_NAME = Pattern.compile("journal-(\\d{8})\\.log");
    private static final int MAX_BATCH = 4096;
    /** Compaction starts once the journal is this much larger than the live data, and at least this big. */
    private static final int COMPACTION_RATIO = 3;
    private static final long DEFAULT_MIN_COMPACTION_BYTES = 64L * 1024 * 1024;
    private static final int SNAPSHOT_RECORD_BYTES = 4 * 1024 * 1024;

    private record PendingCommit(List<Mutation> mutations, CompletableFuture<Void> done) {
    }

    private final Path dir;
    private final long minCompactionBytes;
    private final Map<String, ConcurrentSkipListMap<String, byte[]>> index = new ConcurrentHashMap<>();
    private final BlockingQueue<PendingCommit> queue = new LinkedBlockingQueue<>();
    private final AtomicLong fsyncs = new AtomicLong();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Thread writer;
    private FileChannel journal;
    private int generation;
    private long journalBytes;
    private long liveBytes;
    /** After a failed compaction, the journal size at which to try again. */
    private long retryCompactionAt;
    private volatile IOException failure;
    private volatile boolean closed;

    private JournalStore(Path dir, long minCompactionBytes, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.minCompactionBytes = minCompactionBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.writer = new Thread(this::writeLoop, "journal-writer");
        this.writer.setDaemon(true);
    }

    /**
     * Opens (or creates) the store in {@code dir}. Fails with a clear message when another process holds it.
     */
    public static JournalStore open(Path dir) throws IOException {
        return open(dir, DEFAULT_MIN_COMPACTION_BYTES);
    }

    /** @param minCompactionBytes the journal is never compacted below this size */
    static JournalStore open(Path dir, long minCompactionBytes) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IOException("the data directory " + dir + " is in use by another running hub");
        }
        JournalStore store = new JournalStore(dir, minCompactionBytes, lockChannel, lock);
        try {
            store.recover();
        } catch (IOException | RuntimeException e) {
            store.releaseLock();
            throw e;
        }
        store.writer.start();
        return store;
    }

    private void recover() throws IOException {
        int newest = 0;
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                Matcher m = JOURNAL_NAME.matcher(name);
                if (m.matches()) {
                    int gen = Integer.parseInt(m.group(1));
                    if (gen > newest) {
                        newest = gen;
                    }
                } else if (name.endsWith(".tmp")) {
                    stale.add(file); // an interrupted compaction; its generation never became current
                }
            }
        }
        // Older generations only survive a crash between a compaction's rename and its delete: the newest is whole.
        for (int gen = 1; gen < newest; gen++) {
            Path old = journalPath(gen);
            if (Files.exists(old)) {
                stale.add(old);
            }
        }
        for (Path file : stale) {
            Files.deleteIfExists(file);
        }
        if (newest == 0) {
            generation = 1;
            journal = createJournalFile(journalPath(generation));
            journalBytes = JournalCodec.MAGIC.length;
            syncDirectory();
            return;
        }
        generation = newest;
        Path path = journalPath(generation);
        journal = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (!JournalCodec.hasMagic(journal)) {
            throw new IOException(path + " is not a journal file (bad header)");
        }
        long[] commits = {0};
        long end = JournalCodec.replay(journal, mutations -> {
            apply(mutations);
            commits[0]++;
        });
        long size = journal.size();
        if (end < size) {
            log.warn("journal {}: cut {} bytes of an unacknowledged, torn commit at its tail", path, size - end);
            journal.truncate(end);
            journal.force(true);
        }
        journal.position(end);
        journalBytes = end;
        log.info("storage recovered: {} commits replayed from {}, {} keys", commits[0], path.getFileName(),
                index.values().stream().mapToLong(Map::size).sum());
    }

    private Path journalPath(int gen) {
        return dir.resolve(String.format("journal-%08d.log", gen));
    }

    private static FileChannel createJournalFile(Path path) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        channel.write(ByteBuffer.wrap(JournalCodec.MAGIC));
        channel.force(true);
        return channel;
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public Optional<byte[]> get(String namespace, String key) {
        Map<String, byte[]> map = index.get(namespace);
        return map == null ? Optional.empty() : Optional.ofNullable(map.get(key));
    }

    @Override
    public List<Entry> scan(String namespace, String afterKey, int limit) {
        ConcurrentSkipListMap<String, byte[]> map = index.get(namespace);
        List<Entry> out = new ArrayList<>(Math.min(limit, 1024));
        if (map == null || limit <= 0) {
            return out;
        }
        Map<String, byte[]> tail = afterKey == null ? map : map.tailMap(afterKey, false);
        for (Map.Entry<String, byte[]> e : tail.entrySet()) {
            out.add(new Entry(e.getKey(), e.getValue()));
            if (out.size() >= limit) {
                break;
            }
        }
        return out;
    }

    @Override
    public List<Entry> scanPrefix(String namespace, String prefix, int limit) {
        ConcurrentSkipListMap<String, byte[]> map = index.get(namespace);
        List<Entry> out = new ArrayList<>();
        if (map == null) {
            return out;
        }
        for (Map.Entry<String, byte[]> e : map.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix) || out.size() >= limit) {
                break;
            }
            out.add(new Entry(e.getKey(), e.getValue()));
        }
        return out;
    }

    @Override
    public long count(String namespace) {
        Map<String, byte[]> map = index.get(namespace);
        return map == null ? 0 : map.size();
    }

    @Override
    public CompletableFuture<Void> commit(List<Mutation> mutations) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        IOException failed = failure;
        if (closed) {
            done.completeExceptionally(new IOException("storage is closed"));
        } else if (failed != null) {
            done.completeExceptionally(new IOException("storage failed earlier and accepts no writes: "
                    + failed.getMessage(), failed));
        } else if (mutations.isEmpty()) {
            done.complete(null);
        } else {
            queue.add(new PendingCommit(List.copyOf(mutations), done));
        }
        return done;
    }

    /** How many fsyncs the writer has done: with group commit, far fewer than commits under load. */
    public long fsyncCount() {
        return fsyncs.get();
    }

    private void writeLoop() {
        List<PendingCommit> batch = new ArrayList<>();
        while (true) {
            try {
                PendingCommit first = queue.take();
                if (first.mutations() == null) {
                    failAll(queue, new IOException("storage is closed"));
                    return;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                PendingCommit poison = null;
                if (batch.get(batch.size() - 1).mutations() == null) {
                    poison = batch.remove(batch.size() - 1);
                }
                writeBatch(batch);
                batch.clear();
                if (poison != null) {
                    failAll(queue, new IOException("storage is closed"));
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void writeBatch(List<PendingCommit> batch) {
        List<ByteBuffer> records = new ArrayList<>(batch.size());
        List<PendingCommit> accepted = new ArrayList<>(batch.size());
        for (PendingCommit c : batch) {
            try {
                records.add(JournalCodec.encode(c.mutations()));
                accepted.add(c);
            } catch (IllegalArgumentException tooBig) {
                c.done().completeExceptionally(tooBig);
            }
        }
        if (accepted.isEmpty()) {
            return;
        }
        try {
            if (failure != null) {
                throw failure;
            }
            ByteBuffer[] buffers = records.toArray(new ByteBuffer[0]);
            long written = 0;
            long total = 0;
            for (ByteBuffer b : buffers) {
                total += b.remaining();
            }
            while (written < total) {
                written += journal.write(buffers);
            }
            journal.force(false);
            fsyncs.incrementAndGet();
            journalBytes += total;
        } catch (IOException e) {
            if (failure == null) {
                log.error("storage write failed; the hub accepts no more writes until restarted: {}", e.toString());
                failure = e;
            }
            accepted.forEach(c -> c.done().completeExceptionally(e));
            return;
        }
        for (PendingCommit c : accepted) {
            apply(c.mutations());
        }
        accepted.forEach(c -> c.done().complete(null));
        if (journalBytes > minCompactionBytes && journalBytes > COMPACTION_RATIO * liveBytes
                && journalBytes > retryCompactionAt) {
            compact();
        }
    }

    private void apply(List<Mutation> mutations) {
        for (Mutation m : mutations) {
            ConcurrentSkipListMap<String, byte[]> map = index.computeIfAbsent(m.namespace(),
                    ns -> new ConcurrentSkipListMap<>());
            byte[] previous = m.value() == null ? map.remove(m.key()) : map.put(m.key(), m.value());
            if (previous != null) {
                liveBytes -= JournalCodec.encodedSize(new Mutation(m.namespace(), m.key(), previous));
            }
            if (m.value() != null) {
                liveBytes += JournalCodec.encodedSize(m);
            }
        }
    }

    /** Writes the live data to the next generation's file and switches to it. Runs on the writer thread. */
    private void compact() {
        int next = generation + 1;
        Path tmp = dir.resolve(journalPath(next).getFileName() + ".tmp");
        long started = System.nanoTime();
        try {
            long size;
            try (FileChannel out = createJournalFile(tmp)) {
                List<Mutation> chunk = new ArrayList<>();
                int chunkBytes = 0;
                for (Map.Entry<String, ConcurrentSkipListMap<String, byte[]>> ns : index.entrySet()) {
                    for (Map.Entry<String, byte[]> e : ns.getValue().entrySet()) {
                        Mutation m = Mutation.put(ns.getKey(), e.getKey(), e.getValue());
                        chunk.add(m);
                        chunkBytes += JournalCodec.encodedSize(m);
                        if (chunkBytes >= SNAPSHOT_RECORD_BYTES) {
                            writeFully(out, JournalCodec.encode(chunk));
                            chunk.clear();
                            chunkBytes = 0;
                        }
                    }
                }
                if (!chunk.isEmpty()) {
                    writeFully(out, JournalCodec.encode(chunk));
                }
                out.force(true);
                size = out.size();
            }
            Path target = journalPath(next);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory();
            FileChannel previous = journal;
            Path previousPath = journalPath(generation);
            journal = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE);
            journal.position(journal.size());
            generation = next;
            log.info("storage compacted: journal {} -> {} bytes in {} ms", journalBytes, size,
                    (System.nanoTime() - started) / 1_000_000);
            journalBytes = size;
            previous.close();
            Files.deleteIfExists(previousPath);
        } catch (IOException e) {
            // The current journal is untouched and still complete: keep using it and try again later.
            log.warn("storage compaction failed, keeping the current journal: {}", e.toString());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover .tmp is removed at the next start
            }
            retryCompactionAt = journalBytes * 2;
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    private static void failAll(BlockingQueue<PendingCommit> queue, IOException reason) {
        List<PendingCommit> rest = new ArrayList<>();
        queue.drainTo(rest);
        rest.stream().filter(c -> c.done() != null).forEach(c -> c.done().completeExceptionally(reason));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.add(new PendingCommit(null, null)); // everything queued before this is still written
        try {
            writer.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            journal.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            releaseLock();
        }
    }

    private void releaseLock() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            log.warn("could not release the data directory lock: {}", e.toString());
        }
    }
}
