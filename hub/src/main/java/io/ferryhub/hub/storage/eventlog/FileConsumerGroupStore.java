package io.ferryhub.hub.storage.eventlog;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.storage.DurableFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The embedded {@link ConsumerGroupStore}: the names kept durably in one small JSON file. A change is written to a
 * new file, fsynced, and renamed over the old one, so a crash leaves either the old list or the new one.
 */
public final class FileConsumerGroupStore implements ConsumerGroupStore {
    private final Path file;

    public FileConsumerGroupStore(Path file) {
        this.file = file;
    }

    @Override
    public synchronized List<String> load() throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        return Json.MAPPER.readValue(file.toFile(), new TypeReference<List<String>>() {
        });
    }

    @Override
    public synchronized void save(List<String> names) throws IOException {
        DurableFiles.replace(file, Json.toBytes(names));
    }
}
