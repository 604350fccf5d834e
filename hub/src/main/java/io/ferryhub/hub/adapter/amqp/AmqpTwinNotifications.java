package io.ferryhub.hub.adapter.amqp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.twin.TwinChangeListener;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Hub-wide: which AMQP twin channels subscribed to desired-property changes, by identity. */
final class AmqpTwinNotifications implements TwinChangeListener {
    private final Map<String, Set<AmqpTwinChannel>> subscribers = new ConcurrentHashMap<>();

    void add(AmqpTwinChannel channel) {
        subscribers.computeIfAbsent(channel.identity(), k -> ConcurrentHashMap.newKeySet()).add(channel);
    }

    void remove(AmqpTwinChannel channel) {
        subscribers.computeIfPresent(channel.identity(), (k, set) -> {
            set.remove(channel);
            return set.isEmpty() ? null : set;
        });
    }

    /** Called under the twin's lock, in version order: each channel's event loop keeps that order. */
    @Override
    public void desiredChanged(String deviceId, String moduleId, ObjectNode patch) {
        Set<AmqpTwinChannel> channels = subscribers.get(moduleId == null ? deviceId : deviceId + "/" + moduleId);
        if (channels == null) {
            return;
        }
        byte[] body = Json.toBytes(patch);
        long version = patch.path("$version").asLong();
        for (AmqpTwinChannel channel : channels) {
            channel.connection.onLoop(() -> channel.desiredChanged(body, version));
        }
    }
}
