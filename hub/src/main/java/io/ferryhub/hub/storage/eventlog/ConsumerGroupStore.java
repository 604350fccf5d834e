package io.ferryhub.hub.storage.eventlog;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.storage.DurableFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The event stream's consumer group names, kept durably in one small JSON file. A change is written to a new file,
 * fsynced, and renamed over the old one, so a crash leaves either the old list or the new one. (A Kafka backend
 * keeps consumer groups natively instead.)
 */
public final class ConsumerGroupStore {
    private final Path file;

    public ConsumerGroupStore(Path file) {
        this.file = file;
    }

    /** The stored names, or an empty list before the first save. */
    public synchronized List<String> load() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Json.MAPPER.readValue(file.toFile(), new TypeReference<List<String>>() {
        });
    }

    public synchronized void save(List<String> names) throws IOException {
        DurableFiles.replace(file, Json.toBytes(names));
    }
}
