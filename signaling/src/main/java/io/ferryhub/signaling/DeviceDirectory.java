package io.ferryhub.signaling;

/** What stream signaling needs to know of the identity registry; the hub implements it over its registry. */
public interface DeviceDirectory {
    enum IdentityState { ENABLED, DISABLED, DEVICE_NOT_FOUND, MODULE_NOT_FOUND }

    /** @param moduleId null for a device */
    IdentityState state(String deviceId, String moduleId);
}
