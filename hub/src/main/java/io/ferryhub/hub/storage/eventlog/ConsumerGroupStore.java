package io.ferryhub.hub.storage.eventlog;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
        Files.createDirectories(file.getParent());
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.write(next, Json.toBytes(names));
        try (FileChannel channel = FileChannel.open(next, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // makes the rename itself durable
        } catch (IOException notSupportedOnThisFileSystem) {
            // some file systems refuse to open a directory; the rename is then as durable as they make it
        }
    }
}
