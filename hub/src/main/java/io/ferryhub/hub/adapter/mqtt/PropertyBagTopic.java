package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.sas.PercentEncoding;

/**
 * Edits the property bag of a telemetry topic ({@code devices/{id}[/modules/{m}]/messages/events/{bag}}), for the
 * properties IoT Hub derives from MQTT packet flags (the retain flag).
 */
final class PropertyBagTopic {
    private static final String EVENTS = "/messages/events";

    private PropertyBagTopic() {
    }

    /** The topic with {@code name=value} appended to its property bag. */
    static String withProperty(String topic, String name, String value) {
        String pair = PercentEncoding.encode(name) + "=" + PercentEncoding.encode(value);
        int events = topic.indexOf(EVENTS);
        if (events < 0) {
            return topic;
        }
        String head = topic.substring(0, events + EVENTS.length());
        String bag = topic.substring(head.length());
        if (bag.startsWith("/")) {
            bag = bag.substring(1);
        }
        boolean trailingSlash = bag.endsWith("/");
        if (trailingSlash) {
            bag = bag.substring(0, bag.length() - 1);
        }
        return head + "/" + (bag.isEmpty() ? pair : bag + "&" + pair) + (trailingSlash ? "/" : "");
    }
}
