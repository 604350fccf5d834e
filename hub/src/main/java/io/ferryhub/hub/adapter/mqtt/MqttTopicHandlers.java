package io.ferryhub.hub.adapter.mqtt;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The table of topic handlers the MQTT adapter dispatches to. Each feature (telemetry, C2D, streams, later twin and
 * methods) adds its handler at start-up; the first handler that owns a topic gets it.
 */
public final class MqttTopicHandlers {
    private final List<MqttTopicHandler> handlers = new CopyOnWriteArrayList<>();

    public void add(MqttTopicHandler handler) {
        handlers.add(handler);
    }

    Optional<MqttTopicHandler> forPublish(String topic) {
        for (MqttTopicHandler handler : handlers) {
            if (handler.ownsPublish(topic)) {
                return Optional.of(handler);
            }
        }
        return Optional.empty();
    }

    Optional<MqttTopicHandler> forSubscription(String topicFilter) {
        for (MqttTopicHandler handler : handlers) {
            if (handler.ownsSubscription(topicFilter)) {
                return Optional.of(handler);
            }
        }
        return Optional.empty();
    }

    List<MqttTopicHandler> all() {
        return handlers;
    }
}
