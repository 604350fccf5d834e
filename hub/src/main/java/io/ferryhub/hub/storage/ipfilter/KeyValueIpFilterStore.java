package io.ferryhub.hub.storage.ipfilter;

import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The IP filter on the registry's journaled {@link KeyValueStore}: one key holding the whole rule list. */
public final class KeyValueIpFilterStore implements IpFilterStore {
    static final String NAMESPACE = "ipFilter";
    static final String KEY = "rules";

    private final KeyValueStore store;

    public KeyValueIpFilterStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<byte[]> load() {
        return store.get(NAMESPACE, KEY);
    }

    @Override
    public CompletableFuture<Void> save(byte[] rulesJson) {
        return store.commit(List.of(Mutation.put(NAMESPACE, KEY, rulesJson)));
    }
}
