package io.ferryhub.hub.service.registry;

/**
 * Told when identities go away, so state that belongs to an identity (its twin) goes with it, and when an identity
 * may no longer use what it connected with, so what it opened (its streams) is closed as its connections are cut.
 * Called after the registry change is durable, under the registry's lock for that device.
 */
public interface IdentityLifecycleListener {
    /** Why an identity's live connections were cut without it being deleted. */
    enum Revocation { DISABLED, REKEYED }

    /** The device and all its modules were deleted. */
    void deviceDeleted(String deviceId);

    void moduleDeleted(String deviceId, String moduleId);

    /**
     * The identity was disabled or its credentials changed, and its connections were cut.
     *
     * @param moduleId null for the device, whose modules' connections were cut with it
     */
    default void revoked(String deviceId, String moduleId, Revocation why) {
    }
}
