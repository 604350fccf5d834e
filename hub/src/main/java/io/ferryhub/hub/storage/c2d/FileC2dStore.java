package io.ferryhub.hub.storage.c2d;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.c2d.FeedbackRecord;
import io.ferryhub.hub.storage.DurableFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One small JSON file per device queue (at most 50 messages of 64 KB) plus one for pending feedback, each replaced
 * crash-safely on every change. Cloud-to-device traffic is low-rate by design (IoT Hub throttles sends to a few
 * per second per unit), so a whole-file rewrite per change is cheap and keeps recovery trivial. A queue file is
 * named by the SHA-256 of its device id: ids may hold characters some file systems refuse and may be longer than a
 * hex or percent encoding leaves room for; the id itself is inside the file.
 */
public final class FileC2dStore implements C2dStore {
    private static final String QUEUE_SUFFIX = ".queue.json";

    private final Path queues;
    private final Path feedback;

    public FileC2dStore(Path dir) throws IOException {
        this.queues = dir.resolve("queues");
        this.feedback = dir.resolve("feedback.json");
        OwnerOnlyFiles.createDirectories(queues);
    }

    @Override
    public Map<String, DeviceQueue> loadQueues() throws IOException {
        Map<String, DeviceQueue> all = new HashMap<>();
        try (Stream<Path> files = Files.list(queues)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(QUEUE_SUFFIX)) {
                    DeviceQueue queue = Json.MAPPER.readValue(file.toFile(), DeviceQueue.class);
                    all.put(queue.deviceId(), queue);
                }
            }
        }
        return all;
    }

    @Override
    public void saveQueue(DeviceQueue queue) throws IOException {
        DurableFiles.replace(queueFile(queue.deviceId()), Json.toBytes(queue));
    }

    @Override
    public void deleteQueue(String deviceId) throws IOException {
        DurableFiles.delete(queueFile(deviceId));
    }

    @Override
    public List<FeedbackRecord> loadFeedback() throws IOException {
        if (!Files.exists(feedback)) {
            return List.of();
        }
        return Json.MAPPER.readValue(feedback.toFile(), new TypeReference<List<FeedbackRecord>>() {
        });
    }

    @Override
    public void saveFeedback(List<FeedbackRecord> records) throws IOException {
        DurableFiles.replace(feedback, Json.toBytes(records));
    }

    private Path queueFile(String deviceId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(deviceId.getBytes(StandardCharsets.UTF_8));
            return queues.resolve(HexFormat.of().formatHex(digest) + QUEUE_SUFFIX);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
