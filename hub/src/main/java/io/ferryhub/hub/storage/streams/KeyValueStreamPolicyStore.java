package io.ferryhub.hub.storage.streams;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.storage.IdentityKeys;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Stream policies on the registry's {@link KeyValueStore}, as JSON {@code {"generationId":..., "policy":{...}}}
 * under the identity's key ({@link IdentityKeys}).
 */
public final class KeyValueStreamPolicyStore implements StreamPolicyStore {
    static final String NAMESPACE = "streamPolicies";

    private final KeyValueStore store;

    public KeyValueStreamPolicyStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<StoredPolicy> get(String deviceId, String moduleId) {
        return store.get(NAMESPACE, IdentityKeys.of(deviceId, moduleId)).map(bytes -> {
            JsonNode stored = Json.parse(bytes);
            return new StoredPolicy(stored.path("generationId").asText(), Json.toBytes(stored.get("policy")));
        });
    }

    @Override
    public CompletableFuture<Void> put(String deviceId, String moduleId, StoredPolicy policy) {
        byte[] value = Json.toBytes(Json.object().put("generationId", policy.generationId())
                .set("policy", Json.parse(policy.policyJson())));
        return store.commit(List.of(Mutation.put(NAMESPACE, IdentityKeys.of(deviceId, moduleId), value)));
    }

    @Override
    public CompletableFuture<Void> delete(String deviceId, String moduleId) {
        return store.commit(IdentityKeys.deletions(store, NAMESPACE, deviceId, moduleId));
    }
}
