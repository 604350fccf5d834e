package io.ferryhub.hub.service.streams;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.IdentityLifecycleListener;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.storage.streams.StreamPolicyStore;
import io.ferryhub.signaling.StreamPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The stream policies of devices and modules: validated, stored durably beside the registry (not in the twin: a
 * back-end with ServiceConnect may write twins and a device reads its desired properties, while a policy that
 * restricts back-ends must be changed only with RegistryWrite), and gone with their identity.
 */
public final class StreamPolicies implements IdentityLifecycleListener {
    private static final Logger log = LoggerFactory.getLogger(StreamPolicies.class);

    private final StreamPolicyStore store;
    private final RegistryService registry;
    private volatile ChangeListener changes = (deviceId, moduleId, policy) -> { };

    /** Told once a policy change is durable, so open streams follow it. */
    public interface ChangeListener {
        /** @param policy the identity's policy now; null when it has none */
        void changed(String deviceId, String moduleId, StreamPolicy policy);
    }

    public StreamPolicies(StreamPolicyStore store, RegistryService registry) {
        this.store = store;
        this.registry = registry;
        registry.addLifecycleListener(this);
    }

    public void onChange(ChangeListener listener) {
        this.changes = listener;
    }

    /** The identity's policy; empty when it has none or it was written for an earlier identity of that id. */
    public Optional<StreamPolicy> find(String deviceId, String moduleId) {
        Optional<String> generation = generation(deviceId, moduleId);
        if (generation.isEmpty()) {
            return Optional.empty();
        }
        return store.get(deviceId, moduleId)
                .filter(stored -> stored.generationId().equals(generation.get()))
                .map(stored -> StreamPolicy.fromJson(Json.parse(stored.policyJson())));
    }

    /** The policy, or 404 naming what is missing (the identity, or its policy). */
    public StreamPolicy get(String deviceId, String moduleId) {
        requireGeneration(deviceId, moduleId);
        return find(deviceId, moduleId).orElseThrow(() -> new HubException(HubErrorCode.StreamPolicyNotFound,
                who(deviceId, moduleId) + " has no stream policy"));
    }

    /** Validates and stores a policy document; 400 ArgumentInvalid says what is wrong with it. */
    public CompletableFuture<StreamPolicy> set(String deviceId, String moduleId, JsonNode document) {
        String generation = requireGeneration(deviceId, moduleId);
        StreamPolicy policy;
        try {
            policy = StreamPolicy.fromJson(document);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "invalid stream policy: " + e.getMessage());
        }
        return store.put(deviceId, moduleId, new StreamPolicyStore.StoredPolicy(generation,
                        Json.toBytes(policy.toJson())))
                .thenApply(done -> {
                    log.info("stream policy of {} set: {} rule(s), recording {}", who(deviceId, moduleId),
                            policy.rules().size(), policy.record() ? "on" : "off");
                    changes.changed(deviceId, moduleId, policy);
                    return policy;
                });
    }

    public CompletableFuture<Void> clear(String deviceId, String moduleId) {
        requireGeneration(deviceId, moduleId);
        if (find(deviceId, moduleId).isEmpty()) {
            throw new HubException(HubErrorCode.StreamPolicyNotFound, who(deviceId, moduleId)
                    + " has no stream policy");
        }
        return store.delete(deviceId, moduleId).thenRun(() -> {
            log.info("stream policy of {} cleared", who(deviceId, moduleId));
            changes.changed(deviceId, moduleId, null);
        });
    }

    @Override
    public void deviceDeleted(String deviceId) {
        forget(deviceId, null);
    }

    @Override
    public void moduleDeleted(String deviceId, String moduleId) {
        forget(deviceId, moduleId);
    }

    private void forget(String deviceId, String moduleId) {
        // Should this fail, the generation check still keeps the old policy from a new identity with the same id.
        store.delete(deviceId, moduleId).whenComplete((done, failure) -> {
            if (failure != null) {
                log.warn("stream policy of {} not deleted: {}", who(deviceId, moduleId), failure.toString());
            }
        });
    }

    private Optional<String> generation(String deviceId, String moduleId) {
        return moduleId == null ? registry.findDevice(deviceId).map(Device::generationId)
                : registry.findModule(deviceId, moduleId).map(Module::generationId);
    }

    private String requireGeneration(String deviceId, String moduleId) {
        if (registry.findDevice(deviceId).isEmpty()) {
            throw new HubException(HubErrorCode.DeviceNotFound, "device " + deviceId + " is not registered");
        }
        return generation(deviceId, moduleId).orElseThrow(() -> new HubException(HubErrorCode.ModuleNotFound,
                "module " + who(deviceId, moduleId) + " is not registered"));
    }

    private static String who(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
