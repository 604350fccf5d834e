package io.ferryhub.hub.service.telemetry;

import java.util.Map;

/**
 * One event as the event stream stores it: IoT Hub's system properties and annotations (message id, content type,
 * {@code iothub-connection-device-id}, ...), the application properties, and the body. The log does not interpret
 * any of them.
 */
public record EventData(Map<String, String> systemProperties, Map<String, String> applicationProperties, byte[] body) {
    public EventData {
        systemProperties = Map.copyOf(systemProperties);
        applicationProperties = Map.copyOf(applicationProperties);
    }
}
