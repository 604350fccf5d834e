package io.ferryhub.hub.storage.sessions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.storage.IdentityKeys;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Persistent sessions on the hub's {@link KeyValueStore}, as JSON
 * {@code {"generationId":..., "lastUsed":millis, "subscriptions":{"filter":qos,...}}} under the identity's key
 * ({@link IdentityKeys}).
 */
public final class KeyValueSessionStore implements SessionStore {
    static final String NAMESPACE = "persistentSessions";

    private final KeyValueStore store;

    public KeyValueSessionStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<StoredSession> get(String deviceId, String moduleId) {
        return store.get(NAMESPACE, IdentityKeys.of(deviceId, moduleId)).map(KeyValueSessionStore::read);
    }

    @Override
    public CompletableFuture<Void> put(String deviceId, String moduleId, StoredSession session) {
        ObjectNode subscriptions = Json.object();
        session.subscriptions().forEach(subscriptions::put);
        byte[] value = Json.toBytes(Json.object().put("generationId", session.generationId())
                .put("lastUsed", session.lastUsedMillis()).set("subscriptions", subscriptions));
        return store.commit(List.of(Mutation.put(NAMESPACE, IdentityKeys.of(deviceId, moduleId), value)));
    }

    @Override
    public CompletableFuture<Void> delete(String deviceId, String moduleId) {
        return store.commit(List.of(Mutation.delete(NAMESPACE, IdentityKeys.of(deviceId, moduleId))));
    }

    @Override
    public CompletableFuture<Void> deleteDevice(String deviceId) {
        return store.commit(IdentityKeys.deletions(store, NAMESPACE, deviceId, null));
    }

    @Override
    public List<Entry> scan(String afterDeviceId, String afterModuleId, int limit) {
        String after = afterDeviceId == null ? null : IdentityKeys.of(afterDeviceId, afterModuleId);
        List<Entry> out = new ArrayList<>();
        for (KeyValueStore.Entry e : store.scan(NAMESPACE, after, limit)) {
            out.add(new Entry(IdentityKeys.deviceIdOf(e.key()), IdentityKeys.moduleIdOf(e.key()), read(e.value())));
        }
        return out;
    }

    private static StoredSession read(byte[] bytes) {
        JsonNode stored = Json.parse(bytes);
        Map<String, Integer> subscriptions = new HashMap<>();
        stored.path("subscriptions").fields()
                .forEachRemaining(f -> subscriptions.put(f.getKey(), f.getValue().asInt()));
        return new StoredSession(stored.path("generationId").asText(), subscriptions,
                stored.path("lastUsed").asLong());
    }
}
