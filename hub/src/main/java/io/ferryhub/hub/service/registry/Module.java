package io.ferryhub.hub.service.registry;

/** A module identity of a device: its own credentials and connection, managed with its device. */
public record Module(String deviceId, String moduleId, String generationId, String etag, String managedBy,
                     Authentication authentication) {
}
