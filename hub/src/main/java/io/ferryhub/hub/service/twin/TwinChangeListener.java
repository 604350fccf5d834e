package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Told of every twin change once it is durable, under the twin's lock, so calls for one twin come in version
 * order. Implementations must not block: transports only enqueue a publish, the query index updates a map.
 */
public interface TwinChangeListener {
    /**
     * Desired properties changed: {@code patch} is what the device must apply (a patch, or the whole desired
     * section after a replace), with {@code $version}.
     */
    default void desiredChanged(String deviceId, String moduleId, ObjectNode patch) {
    }

    /** A change as IoT Hub reports it to routing ({@code twinChangeEvents}). */
    default void changeEvent(TwinChangeEvent event) {
    }

    /** The twin's stored content changed; {@code twin} is null when the twin was deleted. */
    default void twinChanged(String deviceId, String moduleId, TwinRecord twin) {
    }
}
