package io.ferryhub.hub.service.registry;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;

/**
 * A device identity as the registry stores it. Connection state and activity are not part of it: they change with
 * every connection and live in {@link ConnectionStates}.
 *
 * @param status            {@code enabled} or {@code disabled}
 * @param statusUpdatedTime ISO-8601 UTC
 */
public record Device(String deviceId, String generationId, String etag, String status, String statusReason,
                     String statusUpdatedTime, Authentication authentication, boolean iotEdge, String deviceScope,
                     List<String> parentScopes) {
    public static final String ENABLED = "enabled";
    public static final String DISABLED = "disabled";

    @JsonIgnore
    public boolean isEnabled() {
        return ENABLED.equals(status);
    }
}
