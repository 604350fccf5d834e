package io.ferryhub.hub.storage.sessions;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable persistent sessions (MQTT {@code cleanSession=false}), one per device or module: its subscriptions, the
 * identity generation they were made by (a device deleted and created again does not inherit them) and when the
 * session was last used. Writes complete once durable; the session service orders the writes of one identity.
 */
public interface SessionStore {
    /**
     * @param subscriptions topic filter to the QoS it was granted
     * @param lastUsedMillis epoch milliseconds of the last connect or disconnect
     */
    record StoredSession(String generationId, Map<String, Integer> subscriptions, long lastUsedMillis) {
        public StoredSession {
            subscriptions = Map.copyOf(subscriptions);
        }
    }

    /** One stored session; {@code moduleId} is null for a device's. */
    record Entry(String deviceId, String moduleId, StoredSession session) {
    }

    /** @param moduleId null for a device */
    Optional<StoredSession> get(String deviceId, String moduleId);

    CompletableFuture<Void> put(String deviceId, String moduleId, StoredSession session);

    /** Deletes exactly this identity's session (a device's, with {@code moduleId == null}, not its modules'). */
    CompletableFuture<Void> delete(String deviceId, String moduleId);

    /** Deletes the sessions of a device and of all its modules. */
    CompletableFuture<Void> deleteDevice(String deviceId);

    /** Up to {@code limit} sessions after the one named (null = from the start), devices before their modules. */
    List<Entry> scan(String afterDeviceId, String afterModuleId, int limit);
}
