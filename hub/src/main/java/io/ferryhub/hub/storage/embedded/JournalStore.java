package io.ferryhub.hub.storage.embedded;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.threads.Threads;
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
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The embedded key/value engine: an append-only journal on disk and the whole data set in memory.
 *
 * <p>Writes go through one writer thread that takes every commit waiting at that moment, writes them with one
 * write call, fsyncs once and only then makes them visible and completes their futures (group commit): under load
 * one fsync covers hundreds of commits.
 *
 * <p>On-disk layout, per generation {@code G} (8 digits):
 * <ul>
 * <li>{@code journal-G.log}: the commits made while {@code G} was the current generation, in order.</li>
 * <li>{@code base-G.snap}: the live data as of the start of {@code journal-G.log}, present only once complete (it
 * is written as {@code base-G.snap.tmp}, fsynced, renamed, and the directory fsynced).</li>
 * </ul>
 * Both use {@link JournalCodec}'s format. The state of generation {@code G} is {@code base-G.snap} then
 * {@code journal-G.log} when the base exists; otherwise the state of generation {@code G-1} then
 * {@code journal-G.log}; a generation with neither a base nor a previous journal starts empty (the first one, and
 * the self-contained journals of earlier versions). Recovery replays the newest generation that way, cuts a torn
 * tail off the newest journal, and deletes {@code .tmp} files and the generations it did not need.
 *
 * <p>Compaction does not stop writes: when the files recovery would replay have grown to several times the live
 * data, the writer thread opens the next generation's journal (a few fsyncs) and goes on committing into it, while
 * a background thread writes the live maps as that generation's base. The base is read from the maps while they
 * change, so it may hold some values newer than the switch; replaying the new journal after it puts every key
 * touched since the switch back to its last committed value (a journal entry is a whole value or a delete), so
 * base plus journal is exact. The previous generation's files are deleted only once the base is durable.
 *
 * <p>Reads are served from sorted in-memory maps, so listing with a continuation is a range scan. The writer applies
 * each batch of commits to the maps under a write lock, and reads that span several keys (scans, counts) validate
 * an optimistic stamp of that lock, so they see a commit whole or not at all; without concurrent commits they take
 * no lock. A single-key read needs no stamp: one key cannot show half a commit.
 */
public final class JournalStore implements KeyValueStore {
    private static final Logger log = LoggerFactory.getLogger(JournalStore.class);
    private static final Pattern JOURNAL_NAME = Pattern.compile("journal-(\\d{8})\\.log");
    private static final Pattern BASE_NAME = Pattern.compile("base-(\\d{8})\\.snap");
    private static final int MAX_BATCH = 4096;
    /** Compaction starts once the replayed files are this much larger than the live data, and at least this big. */
    private static final int COMPACTION_RATIO = 3;
    private static final long DEFAULT_MIN_COMPACTION_BYTES = 64L * 1024 * 1024;
    private static final int SNAPSHOT_RECORD_BYTES = 4 * 1024 * 1024;

    /** Points of a compaction that tests stop at to look at the files a crash there would leave. */
    enum CompactionStage {
        /** The next generation's journal takes the commits; its base is not written yet. */
        SWITCHED,
        /** The base is complete and fsynced under its .tmp name. */
        BASE_WRITTEN,
        /** The base has its final name (directory fsynced); the previous generation's files are still there. */
        BASE_RENAMED,
        /** The previous generation's files are deleted. */
        DONE
    }

    private record PendingCommit(List<Mutation> mutations, CompletableFuture<Void> done) {
    }

    private final Path dir;
    private final long minCompactionBytes;
    private final Map<String, ConcurrentSkipListMap<String, byte[]>> index = new ConcurrentHashMap<>();
    private final BlockingQueue<PendingCommit> queue = new LinkedBlockingQueue<>();
    private final AtomicLong fsyncs = new AtomicLong();
    /** Held for writing while a batch is applied to the maps; see {@link #consistent}. */
    private final StampedLock visibility = new StampedLock();
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Thread writer;
    private FileChannel journal;
    private int generation;
    /** Bytes of the current journal file. */
    private long journalBytes;
    /** Bytes of the older files recovery would replay before the current journal (a base or older journals). */
    private volatile long olderBytes;
    private long liveBytes;
    /** After a failed compaction, the size at which to try again. */
    private volatile long retryCompactionAt;
    private volatile Thread compactor;
    private volatile Consumer<CompactionStage> compactionHook = stage -> { };
    private volatile IOException failure;
    private volatile boolean closed;

    private JournalStore(Path dir, long minCompactionBytes, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.minCompactionBytes = minCompactionBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.writer = Threads.daemon(this::writeLoop, "journal-writer");
    }

    /**
     * Opens (or creates) the store in {@code dir}. Fails with a clear message when another process holds it.
     */
    public static JournalStore open(Path dir) throws IOException {
        return open(dir, DEFAULT_MIN_COMPACTION_BYTES);
    }

    /** @param minCompactionBytes the journal is never compacted below this size */
    static JournalStore open(Path dir, long minCompactionBytes) throws IOException {
        OwnerOnlyFiles.createDirectories(dir);
        FileChannel lockChannel = OwnerOnlyFiles.open(dir.resolve("LOCK"), StandardOpenOption.CREATE,
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
        TreeSet<Integer> journals = new TreeSet<>();
        TreeSet<Integer> bases = new TreeSet<>();
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                int journalGen = generationOf(JOURNAL_NAME, name);
                int baseGen = generationOf(BASE_NAME, name);
                if (journalGen >= 0) {
                    journals.add(journalGen);
                } else if (baseGen >= 0) {
                    bases.add(baseGen);
                } else if (name.endsWith(".tmp")) {
                    stale.add(file); // an interrupted compaction's base: its generation replays from the older one
                }
            }
        }
        if (journals.isEmpty()) {
            if (!bases.isEmpty()) {
                throw new IOException(dir + " holds a base file but no journal: not a directory this store wrote");
            }
            deleteAll(stale);
            generation = 1;
            journal = createJournalFile(journalPath(generation));
            journalBytes = JournalCodec.MAGIC.length;
            syncDirectory();
            return;
        }
        int newest = journals.last();
        int first = newest;
        long older = 0;
        while (true) {
            if (bases.contains(first)) {
                long baseSize = replayBase(first);
                if (baseSize >= 0) {
                    older = baseSize;
                    break;
                }
                index.clear();
                liveBytes = 0;
                if (!journals.contains(first - 1)) {
                    throw new IOException(basePath(first) + " is damaged and the journal before it is gone");
                }
                stale.add(basePath(first));
            } else if (!journals.contains(first - 1)) {
                break; // the first generation, or a journal that holds all its data itself
            }
            first--;
        }
        for (int gen : journals.headSet(first)) {
            stale.add(journalPath(gen));
        }
        for (int gen : bases.headSet(first)) {
            stale.add(basePath(gen));
        }
        long commits = 0;
        for (int gen = first; gen < newest; gen++) {
            Path path = journalPath(gen);
            try (FileChannel sealed = FileChannel.open(path, StandardOpenOption.READ)) {
                if (!JournalCodec.hasMagic(sealed)) {
                    throw new IOException(path + " is not a journal file (bad header)");
                }
                long[] count = {0};
                long end = JournalCodec.replay(sealed, mutations -> {
                    apply(mutations);
                    count[0]++;
                });
                if (end < sealed.size()) {
                    log.error("journal {}: damaged after offset {} although a newer journal follows it; "
                            + "the commits after that offset are lost", path, end);
                }
                commits += count[0];
                older += sealed.size();
            }
        }
        generation = newest;
        Path path = journalPath(generation);
        journal = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        if (journal.size() < JournalCodec.MAGIC.length) {
            // a crash while the file was being created: it holds no commit yet
            journal.truncate(0);
            journal.write(ByteBuffer.wrap(JournalCodec.MAGIC), 0);
            journal.force(true);
        }
        if (!JournalCodec.hasMagic(journal)) {
            throw new IOException(path + " is not a journal file (bad header)");
        }
        long[] count = {0};
        long end = JournalCodec.replay(journal, mutations -> {
            apply(mutations);
            count[0]++;
        });
        commits += count[0];
        long size = journal.size();
        if (end < size) {
            log.warn("journal {}: cut {} bytes of an unacknowledged, torn commit at its tail", path, size - end);
            journal.truncate(end);
            journal.force(true);
        }
        journal.position(end);
        journalBytes = end;
        olderBytes = older;
        if (!stale.isEmpty()) {
            deleteAll(stale);
            syncDirectory();
        }
        log.info("storage recovered: {}{} commits replayed from journals {} to {}, {} keys",
                bases.contains(first) ? "base " + first + " and " : "",
                commits, first, newest, index.values().stream().mapToLong(Map::size).sum());
    }

    /** Loads a base file into the maps; its size, or -1 when it is damaged (a base is only ever renamed whole). */
    private long replayBase(int gen) throws IOException {
        Path path = basePath(gen);
        try (FileChannel base = FileChannel.open(path, StandardOpenOption.READ)) {
            if (!JournalCodec.hasMagic(base)) {
                log.error("base {} has a bad header; replaying the generation before it", path);
                return -1;
            }
            long end = JournalCodec.replay(base, this::apply);
            if (end < base.size()) {
                log.error("base {} is damaged after offset {}; replaying the generation before it", path, end);
                return -1;
            }
            return base.size();
        }
    }

    private static void deleteAll(List<Path> files) throws IOException {
        for (Path file : files) {
            Files.deleteIfExists(file);
        }
    }

    private Path journalPath(int gen) {
        return dir.resolve(String.format("journal-%08d.log", gen));
    }

    private Path basePath(int gen) {
        return dir.resolve(String.format("base-%08d.snap", gen));
    }

    /** A new journal or base file (owner-only: it holds every key of the hub) with its header, fsynced. */
    private static FileChannel createJournalFile(Path path) throws IOException {
        FileChannel channel = OwnerOnlyFiles.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
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
        return consistent(() -> scanNow(namespace, afterKey, limit));
    }

    private List<Entry> scanNow(String namespace, String afterKey, int limit) {
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
        return consistent(() -> scanPrefixNow(namespace, prefix, limit));
    }

    private List<Entry> scanPrefixNow(String namespace, String prefix, int limit) {
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
        return consistent(() -> {
            Map<String, byte[]> map = index.get(namespace);
            return map == null ? 0L : (long) map.size();
        });
    }

    /**
     * Runs a read of several keys as of one moment between commits: first optimistically (the maps are safe to
     * traverse while they change, and the stamp tells whether a batch was applied meanwhile), then, if one was,
     * again under the read lock, so a reader retries at most once however busy the writer is.
     */
    private <T> T consistent(Supplier<T> read) {
        long stamp = visibility.tryOptimisticRead();
        if (stamp != 0) {
            T result = read.get();
            if (visibility.validate(stamp)) {
                return result;
            }
        }
        stamp = visibility.readLock();
        try {
            return read.get();
        } finally {
            visibility.unlockRead(stamp);
        }
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
                writeBatchOrFail(batch);
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

    /**
     * A writer that died would leave every later commit waiting forever: an unexpected failure is logged, fails the
     * batch, and (the journal may hold part of it) makes the store refuse writes until restarted, as an I/O error does.
     */
    private void writeBatchOrFail(List<PendingCommit> batch) {
        try {
            writeBatch(batch);
        } catch (RuntimeException | Error e) {
            log.error("storage writer failed; the hub accepts no more writes until restarted", e);
            IOException reason = new IOException("the storage writer failed: " + e, e);
            if (failure == null) {
                failure = reason;
            }
            batch.forEach(c -> c.done().completeExceptionally(reason));
        }
    }

    private void writeBatch(List<PendingCommit> batch) {
        List<ByteBuffer> records = new ArrayList<>(batch.size());
        List<PendingCommit> accepted = new ArrayList<>(batch.size());
        for (PendingCommit c : batch) {
            try {
                records.add(JournalCodec.encode(c.mutations()));
                accepted.add(c);
            } catch (RuntimeException unencodable) { // too big, or not a valid mutation: this commit only
                c.done().completeExceptionally(unencodable);
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
        // one lock for the whole batch: readers wait at most for one batch's map updates, never for its fsync
        long stamp = visibility.writeLock();
        try {
            for (PendingCommit c : accepted) {
                apply(c.mutations());
            }
        } finally {
            visibility.unlockWrite(stamp);
        }
        accepted.forEach(c -> c.done().complete(null));
        long replayed = olderBytes + journalBytes;
        if (compactor == null && replayed > minCompactionBytes && replayed > COMPACTION_RATIO * liveBytes
                && replayed > retryCompactionAt) {
            startCompaction();
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

    /**
     * Switches commits to the next generation's journal and starts writing that generation's base in the
     * background. Runs on the writer thread, which only pays for creating the new file.
     */
    private void startCompaction() {
        int next = generation + 1;
        Path nextJournal = journalPath(next);
        FileChannel fresh;
        try {
            fresh = createJournalFile(nextJournal);
            try {
                syncDirectory(); // the file must outlive a crash before any commit written to it is acknowledged
            } catch (IOException e) {
                fresh.close();
                Files.deleteIfExists(nextJournal);
                throw e;
            }
        } catch (IOException e) {
            log.warn("storage compaction could not start a new journal, keeping the current one: {}", e.toString());
            retryCompactionAt = (olderBytes + journalBytes) * 2;
            return;
        }
        FileChannel previous = journal;
        journal = fresh;
        generation = next;
        olderBytes += journalBytes;
        journalBytes = JournalCodec.MAGIC.length;
        try {
            previous.close();
        } catch (IOException e) {
            log.warn("could not close the previous journal: {}", e.toString());
        }
        Thread thread = Threads.daemon(() -> writeBase(next), "journal-compactor");
        compactor = thread;
        thread.start();
    }

    /** Writes the live data as generation {@code gen}'s base, then deletes the older generations. */
    private void writeBase(int gen) {
        long started = System.nanoTime();
        Path target = basePath(gen);
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        try {
            compactionHook.accept(CompactionStage.SWITCHED);
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
            compactionHook.accept(CompactionStage.BASE_WRITTEN);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory();
            long replacedBytes = olderBytes;
            olderBytes = size;
            compactionHook.accept(CompactionStage.BASE_RENAMED);
            deleteGenerationsBefore(gen);
            log.info("storage compacted: {} bytes before journal {} replaced by a base of {} bytes in {} ms",
                    replacedBytes, gen, size, (System.nanoTime() - started) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            // The older generations are untouched: recovery replays them before the new journal. Try again later.
            log.warn("storage compaction failed, keeping the older journals: {}", e.toString());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover .tmp is removed at the next start
            }
            retryCompactionAt = olderBytes * 2;
        } finally {
            compactor = null;
        }
        compactionHook.accept(CompactionStage.DONE);
    }

    private void deleteGenerationsBefore(int gen) throws IOException {
        List<Path> old = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                int journalGen = generationOf(JOURNAL_NAME, name);
                int baseGen = generationOf(BASE_NAME, name);
                if (journalGen >= 0 && journalGen < gen || baseGen >= 0 && baseGen < gen) {
                    old.add(file);
                }
            }
        }
        deleteAll(old);
    }

    /** The generation a journal or base file name ({@code kind}) carries, or -1 for another name. */
    private static int generationOf(Pattern kind, String name) {
        Matcher m = kind.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Called at each stage of every compaction, on the thread that reached it. */
    void onCompactionStage(Consumer<CompactionStage> hook) {
        compactionHook = hook;
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
            Thread running = compactor;
            if (running != null) {
                running.join(); // a started compaction is finished, so a clean shutdown leaves one generation
            }
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
