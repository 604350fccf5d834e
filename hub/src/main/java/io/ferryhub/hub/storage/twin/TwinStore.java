package io.ferryhub.hub.storage.twin;

import io.ferryhub.hub.service.twin.TwinRecord;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where device and module twins live. Writes complete once durable. The twin service serialises writes per
 * device, so implementations need no conditional writes of their own.
 */
public interface TwinStore {
    /** One stored twin; {@code moduleId} is null for a device twin. */
    record StoredTwin(String deviceId, String moduleId, TwinRecord twin) {
    }

    Optional<TwinRecord> get(String deviceId, String moduleId);

    CompletableFuture<Void> put(String deviceId, String moduleId, TwinRecord twin);

    /** Deletes one module's twin, or with {@code moduleId == null} the device's twin and all its modules' twins. */
    CompletableFuture<Void> delete(String deviceId, String moduleId);

    /** Up to {@code limit} twins after the one named (null = from the start), devices before their modules. */
    List<StoredTwin> scan(String afterDeviceId, String afterModuleId, int limit);
}
