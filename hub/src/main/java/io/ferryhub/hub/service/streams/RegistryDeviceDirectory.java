package io.ferryhub.hub.service.streams;

import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.signaling.DeviceDirectory;
import io.ferryhub.signaling.StreamPolicy;

import java.util.Optional;

/**
 * Stream signaling's view of the identity registry and stream policies. A module counts as disabled when its device
 * is.
 */
public final class RegistryDeviceDirectory implements DeviceDirectory {
    private final RegistryService registry;
    private final StreamPolicies policies;

    public RegistryDeviceDirectory(RegistryService registry, StreamPolicies policies) {
        this.registry = registry;
        this.policies = policies;
    }

    @Override
    public Optional<StreamPolicy> streamPolicy(String deviceId, String moduleId) {
        return policies.find(deviceId, moduleId);
    }

    @Override
    public IdentityState state(String deviceId, String moduleId) {
        Optional<Device> device = registry.findDevice(deviceId);
        if (device.isEmpty()) {
            return IdentityState.DEVICE_NOT_FOUND;
        }
        if (moduleId != null && registry.findModule(deviceId, moduleId).isEmpty()) {
            return IdentityState.MODULE_NOT_FOUND;
        }
        return device.get().isEnabled() ? IdentityState.ENABLED : IdentityState.DISABLED;
    }
}
