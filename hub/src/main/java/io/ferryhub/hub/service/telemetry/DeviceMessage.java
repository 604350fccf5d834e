package io.ferryhub.hub.service.telemetry;

import java.util.Map;

/**
 * A device-to-cloud message as a device adapter decoded it, whatever the protocol.
 *
 * @param systemProperties user-settable system properties under IoT Hub's Event Hubs names: {@code message-id},
 *                         {@code correlation-id}, {@code user-id}, {@code to}, {@code content-type},
 *                         {@code content-encoding}, {@code absolute-expiry-time}, {@code creation-time},
 *                         {@code dt-subject}, {@code output-name}, ...
 * @param applicationProperties the application's own properties, never modified by the hub
 */
public record DeviceMessage(Map<String, String> systemProperties, Map<String, String> applicationProperties,
                            byte[] body) {
    public DeviceMessage {
        systemProperties = Map.copyOf(systemProperties);
        applicationProperties = Map.copyOf(applicationProperties);
    }
}
