package io.ferryhub.hub.adapter.mqtt;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The subscriptions of clients that connected with {@code cleanSession=false}, so a reconnecting device gets them
 * back (CONNACK session present) and its queued cloud-to-device messages flow without a new SUBSCRIBE, as IoT Hub
 * does. Kept in memory: after a hub restart the session is absent, which tells clients to subscribe again.
 */
final class SessionStore {
    /** Client id to its topic filters and their granted QoS. */
    private final Map<String, Map<String, Integer>> subscriptions = new ConcurrentHashMap<>();

    /**
     * The subscriptions to restore for a new connection, or null when there is no session: a clean session ends
     * the stored one.
     */
    Map<String, Integer> resume(String clientId, boolean cleanSession) {
        if (cleanSession) {
            subscriptions.remove(clientId);
            return null;
        }
        return subscriptions.get(clientId);
    }

    /** Records a persistent session's current subscriptions (also when empty: the session exists). */
    void save(String clientId, Map<String, Integer> filters) {
        subscriptions.put(clientId, Map.copyOf(filters));
    }
}
