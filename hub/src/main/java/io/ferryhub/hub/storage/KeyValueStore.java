package io.ferryhub.hub.storage;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The hub's durable state as namespaced, ordered key/value maps: registry identities, shared access policies, and
 * later twins and C2D queues. Reads see only committed data. A commit is atomic (all its mutations or none survive
 * a crash) and its future completes once the data is on stable storage.
 *
 * <p>The embedded engine is {@link io.ferryhub.hub.storage.embedded.JournalStore}; a scale-out backend implements
 * this with one table {@code (namespace, key, value)} (PostgreSQL) or a compacted topic per namespace (Kafka).
 */
public interface KeyValueStore extends AutoCloseable {
    /** One change: {@code value == null} deletes the key. */
    record Mutation(String namespace, String key, byte[] value) {
        public static Mutation put(String namespace, String key, byte[] value) {
            return new Mutation(namespace, key, value);
        }

        public static Mutation delete(String namespace, String key) {
            return new Mutation(namespace, key, null);
        }
    }

    record Entry(String key, byte[] value) {
    }

    Optional<byte[]> get(String namespace, String key);

    /** Up to {@code limit} entries with keys strictly after {@code afterKey} (null = from the start), in key order. */
    List<Entry> scan(String namespace, String afterKey, int limit);

    /** Entries whose key starts with {@code prefix}, in key order. */
    List<Entry> scanPrefix(String namespace, String prefix, int limit);

    long count(String namespace);

    /**
     * Applies the mutations atomically. The future completes once they are on stable storage and visible to reads;
     * it fails with an {@link java.io.IOException} when they could not be stored.
     */
    CompletableFuture<Void> commit(List<Mutation> mutations);

    @Override
    void close();
}
