package io.ferryhub.hub.service.auth;

/**
 * A device or module identity that has proven who it is.
 *
 * @param moduleId     null for a device
 * @param authMethod   how it authenticated, as IoT Hub stamps it in {@code iothub-connection-auth-method}:
 *                     {@code sas}, {@code x509} or {@code x509Ca}... (the JSON the hub stamps is built by the service)
 * @param generationId the identity's generation id, stamped in {@code iothub-connection-auth-generation-id}
 * @param credentialExpiry epoch seconds after which the credential is no longer valid (SAS expiry), or
 *                     {@link Long#MAX_VALUE} for certificates
 * @param credential   which registered credential it proved (see {@link Credentials}), so that a re-key closes
 *                     only what relied on a key that changed; null when not known
 */
public record AuthenticatedDevice(String deviceId, String moduleId, String authMethod, String generationId,
                                  long credentialExpiry, String credential) {
    public AuthenticatedDevice(String deviceId, String moduleId, String authMethod, String generationId,
                               long credentialExpiry) {
        this(deviceId, moduleId, authMethod, generationId, credentialExpiry, null);
    }

    /** {@code deviceId} or {@code deviceId/moduleId}: the MQTT client id form. */
    public String clientId() {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
