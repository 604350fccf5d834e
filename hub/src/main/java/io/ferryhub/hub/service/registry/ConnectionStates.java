package io.ferryhub.hub.service.registry;

import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Connection state and last activity of every identity, kept from {@link DeviceConnections} events. Held in memory
 * only, as IoT Hub treats them: after a restart every identity is disconnected, and writing each activity to disk
 * would cost an fsync per telemetry message.
 */
public final class ConnectionStates implements DeviceConnections.ConnectionListener {
    /** IoT Hub's "never": {@code 0001-01-01T00:00:00Z}. */
    public static final String NEVER = "0001-01-01T00:00:00Z";

    public record State(boolean connected, String connectionStateUpdatedTime, String lastActivityTime) {
        static final State INITIAL = new State(false, NEVER, NEVER);
    }

    private final Map<String, State> states = new ConcurrentHashMap<>();

    @Override
    public void connected(DeviceLink link) {
        String now = Instant.now().toString();
        states.put(key(link), new State(true, now, now));
    }

    @Override
    public void disconnected(DeviceLink link) {
        String now = Instant.now().toString();
        states.compute(key(link), (k, old) -> new State(false, now, old == null ? now : old.lastActivityTime()));
    }

    @Override
    public void activity(DeviceLink link) {
        String now = Instant.now().toString();
        states.compute(key(link), (k, old) -> old == null ? new State(true, now, now)
                : new State(old.connected(), old.connectionStateUpdatedTime(), now));
    }

    public State of(String deviceId, String moduleId) {
        return states.getOrDefault(key(deviceId, moduleId), State.INITIAL);
    }

    /** Forgets a deleted identity, so a new one with the same id starts disconnected. */
    void forget(String deviceId, String moduleId) {
        states.remove(key(deviceId, moduleId));
    }

    private static String key(DeviceLink link) {
        return key(link.identity().deviceId(), link.identity().moduleId());
    }

    private static String key(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
