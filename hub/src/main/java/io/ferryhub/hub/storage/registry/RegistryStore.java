package io.ferryhub.hub.storage.registry;

import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where the identity registry and the hub's shared access policies live. Writes complete once durable. The registry
 * service serialises writes per device, so implementations need no conditional writes of their own.
 */
public interface RegistryStore {
    Optional<Device> device(String deviceId);

    /** Devices with ids strictly after {@code afterDeviceId} (null = first), in id order. */
    List<Device> devices(String afterDeviceId, int limit);

    long deviceCount();

    long disabledDeviceCount();

    CompletableFuture<Void> putDevice(Device device);

    /** Deletes the device and all its modules in one atomic write. */
    CompletableFuture<Void> deleteDevice(String deviceId);

    /** Stores {@code puts} and deletes {@code deletes} (with their modules) in one atomic, durable write. */
    CompletableFuture<Void> writeDevices(List<Device> puts, List<String> deletes);

    Optional<Module> module(String deviceId, String moduleId);

    List<Module> modules(String deviceId);

    CompletableFuture<Void> putModule(Module module);

    CompletableFuture<Void> deleteModule(String deviceId, String moduleId);

    List<SharedAccessPolicy> policies();

    CompletableFuture<Void> putPolicies(List<SharedAccessPolicy> policies);
}
