package io.ferryhub.hub.service.methods;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A direct method invocation as the service asked for it.
 *
 * @param responseTimeoutSeconds how long to wait for the device's answer (IoT Hub: 5-300, null = 30)
 * @param connectTimeoutSeconds  how long to wait for the device to come online (0-300, null = 0)
 */
public record MethodCall(String methodName, JsonNode payload, Integer responseTimeoutSeconds,
                         Integer connectTimeoutSeconds) {
}
