package io.ferryhub.hub.service.registry;

/**
 * Told when identities go away, so state that belongs to an identity (its twin) goes with it. Called after the
 * registry change is durable, under the registry's lock for that device.
 */
public interface IdentityLifecycleListener {
    /** The device and all its modules were deleted. */
    void deviceDeleted(String deviceId);

    void moduleDeleted(String deviceId, String moduleId);
}
