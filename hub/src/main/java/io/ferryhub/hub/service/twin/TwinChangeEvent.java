package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One twin change in IoT Hub's {@code twinChangeEvents} shape: {@code opType} is {@code updateTwin} or
 * {@code replaceTwin}; {@code body} is patch-shaped ({@code version}, and the changed {@code tags} and
 * {@code properties.desired} / {@code properties.reported} with their {@code $metadata} and {@code $version}).
 */
public record TwinChangeEvent(String deviceId, String moduleId, String opType, String operationTimestamp,
                              ObjectNode body) {
}
