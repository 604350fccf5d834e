package io.ferryhub.hub.storage.eventlog;

import java.io.IOException;
import java.util.List;

/**
 * Storage SPI of the event stream's consumer group names. The embedded engine is {@link FileConsumerGroupStore}; a
 * Kafka backend keeps consumer groups natively instead.
 */
public interface ConsumerGroupStore {
    /** The stored names, or an empty list before the first save. */
    List<String> load() throws IOException;

    /** Replaces the stored names durably: after a crash, either the old list or the new one is there. */
    void save(List<String> names) throws IOException;
}
