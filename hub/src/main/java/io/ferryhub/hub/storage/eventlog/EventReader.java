package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.hub.service.telemetry.StoredEvent;
import java.time.Duration;
import java.util.List;

/**
 * A reader of one partition, from a start position onwards. Readers only see durable events. A reader whose next
 * event was removed by retention continues at the oldest retained event.
 */
public interface EventReader extends AutoCloseable {
    /**
     * The next events, at most {@code max}; waits up to {@code wait} for the first one when none is there yet.
     * Returns an empty list when none came in time or the reader was closed.
     */
    List<StoredEvent> poll(int max, Duration wait) throws InterruptedException;

    /** The offset the next {@link #poll} reads from: a resumable position. */
    long nextOffset();

    @Override
    void close();
}
