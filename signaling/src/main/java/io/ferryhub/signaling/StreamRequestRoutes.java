package io.ferryhub.signaling;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * How stream signaling reaches connected devices; the hub implements it over its connection registry, so a device
 * on any transport that can carry stream requests is found.
 */
public interface StreamRequestRoutes {
    /**
     * The sink of a link of this identity that is subscribed to stream requests, now or once one appears within
     * {@code wait} (zero = don't wait); empty if none came in time. Never completes exceptionally.
     */
    CompletableFuture<Optional<StreamRequestSink>> awaitSink(String deviceId, String moduleId, Duration wait);
}
