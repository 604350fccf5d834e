package io.ferryhub.hub.storage.registry;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The registry on a {@link KeyValueStore}: devices keyed by id, modules keyed by {@code deviceId + '\0' + moduleId}
 * (so a device's modules are one contiguous range and deleting a device takes them along), values as JSON.
 */
public final class KeyValueRegistryStore implements RegistryStore {
    static final String DEVICES = "devices";
    static final String MODULES = "modules";
    static final String POLICIES = "policies";
    /** The ids of disabled devices, kept in the same commits as the devices so statistics need no scan. */
    static final String DISABLED = "disabledDevices";
    private static final String POLICY_KEY = "sharedAccessPolicies";
    /** Sorts before every character allowed in ids, so a device's module keys never interleave with another's. */
    private static final char SEPARATOR = '\0';
    private static final TypeReference<List<SharedAccessPolicy>> POLICY_LIST = new TypeReference<>() {
    };

    private final KeyValueStore store;

    public KeyValueRegistryStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<Device> device(String deviceId) {
        return store.get(DEVICES, deviceId).map(bytes -> read(bytes, Device.class));
    }

    @Override
    public List<Device> devices(String afterDeviceId, int limit) {
        List<Device> out = new ArrayList<>();
        for (KeyValueStore.Entry e : store.scan(DEVICES, afterDeviceId, limit)) {
            out.add(read(e.value(), Device.class));
        }
        return out;
    }

    @Override
    public long deviceCount() {
        return store.count(DEVICES);
    }

    @Override
    public long disabledDeviceCount() {
        return store.count(DISABLED);
    }

    @Override
    public CompletableFuture<Void> putDevice(Device device) {
        return writeDevices(List.of(device), List.of());
    }

    @Override
    public CompletableFuture<Void> deleteDevice(String deviceId) {
        return writeDevices(List.of(), List.of(deviceId));
    }

    @Override
    public CompletableFuture<Void> writeDevices(List<Device> puts, List<String> deletes) {
        List<Mutation> mutations = new ArrayList<>();
        for (Device device : puts) {
            mutations.add(Mutation.put(DEVICES, device.deviceId(), Json.toBytes(device)));
            mutations.add(device.isEnabled() ? Mutation.delete(DISABLED, device.deviceId())
                    : Mutation.put(DISABLED, device.deviceId(), new byte[0]));
        }
        for (String deviceId : deletes) {
            mutations.add(Mutation.delete(DEVICES, deviceId));
            mutations.add(Mutation.delete(DISABLED, deviceId));
            for (KeyValueStore.Entry e : store.scanPrefix(MODULES, deviceId + SEPARATOR, Integer.MAX_VALUE)) {
                mutations.add(Mutation.delete(MODULES, e.key()));
            }
        }
        return store.commit(mutations);
    }

    @Override
    public Optional<Module> module(String deviceId, String moduleId) {
        return store.get(MODULES, moduleKey(deviceId, moduleId)).map(bytes -> read(bytes, Module.class));
    }

    @Override
    public List<Module> modules(String deviceId) {
        List<Module> out = new ArrayList<>();
        for (KeyValueStore.Entry e : store.scanPrefix(MODULES, deviceId + SEPARATOR, Integer.MAX_VALUE)) {
            out.add(read(e.value(), Module.class));
        }
        return out;
    }

    @Override
    public CompletableFuture<Void> putModule(Module module) {
        return store.commit(List.of(Mutation.put(MODULES, moduleKey(module.deviceId(), module.moduleId()),
                Json.toBytes(module))));
    }

    @Override
    public CompletableFuture<Void> deleteModule(String deviceId, String moduleId) {
        return store.commit(List.of(Mutation.delete(MODULES, moduleKey(deviceId, moduleId))));
    }

    @Override
    public List<SharedAccessPolicy> policies() {
        return store.get(POLICIES, POLICY_KEY).map(bytes -> {
            try {
                return Json.MAPPER.readValue(bytes, POLICY_LIST);
            } catch (IOException e) {
                throw new UncheckedIOException("stored shared access policies are unreadable", e);
            }
        }).orElse(List.of());
    }

    @Override
    public CompletableFuture<Void> putPolicies(List<SharedAccessPolicy> policies) {
        return store.commit(List.of(Mutation.put(POLICIES, POLICY_KEY, Json.toBytes(policies))));
    }

    private static String moduleKey(String deviceId, String moduleId) {
        return deviceId + SEPARATOR + moduleId;
    }

    private static <T> T read(byte[] bytes, Class<T> type) {
        try {
            return Json.MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("stored " + type.getSimpleName() + " is unreadable", e);
        }
    }
}
