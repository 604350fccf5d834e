package io.ferryhub.hub.storage.twin;

import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.twin.TwinRecord;
import io.ferryhub.hub.storage.IdentityKeys;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Twins on a {@link KeyValueStore}, as JSON: a device twin under its device id, a module twin under
 * {@code deviceId + '\0' + moduleId}, so a device's module twins follow it in key order and go with it in one scan.
 */
public final class KeyValueTwinStore implements TwinStore {
    static final String TWINS = "twins";

    private final KeyValueStore store;

    public KeyValueTwinStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<TwinRecord> get(String deviceId, String moduleId) {
        return store.get(TWINS, key(deviceId, moduleId)).map(KeyValueTwinStore::read);
    }

    @Override
    public CompletableFuture<Void> put(String deviceId, String moduleId, TwinRecord twin) {
        return store.commit(List.of(Mutation.put(TWINS, key(deviceId, moduleId), Json.toBytes(twin))));
    }

    @Override
    public CompletableFuture<Void> delete(String deviceId, String moduleId) {
        return store.commit(IdentityKeys.deletions(store, TWINS, deviceId, moduleId));
    }

    @Override
    public List<StoredTwin> scan(String afterDeviceId, String afterModuleId, int limit) {
        List<StoredTwin> out = new ArrayList<>();
        String after = afterDeviceId == null ? null : key(afterDeviceId, afterModuleId);
        for (KeyValueStore.Entry e : store.scan(TWINS, after, limit)) {
            out.add(new StoredTwin(IdentityKeys.deviceIdOf(e.key()), IdentityKeys.moduleIdOf(e.key()),
                    read(e.value())));
        }
        return out;
    }

    private static String key(String deviceId, String moduleId) {
        return IdentityKeys.of(deviceId, moduleId);
    }

    private static TwinRecord read(byte[] bytes) {
        try {
            return Json.MAPPER.readValue(bytes, TwinRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("a stored twin is unreadable", e);
        }
    }
}
