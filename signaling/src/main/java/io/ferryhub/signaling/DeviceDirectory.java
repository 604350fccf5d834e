package io.ferryhub.signaling;

import java.util.Optional;

/** What stream signaling needs to know of the identity registry; the hub implements it over its registry. */
public interface DeviceDirectory {
    enum IdentityState { ENABLED, DISABLED, DEVICE_NOT_FOUND, MODULE_NOT_FOUND }

    /** @param moduleId null for a device */
    IdentityState state(String deviceId, String moduleId);

    /** The identity's stream policy; empty when it has none (every stream allowed). */
    default Optional<StreamPolicy> streamPolicy(String deviceId, String moduleId) {
        return Optional.empty();
    }
}
