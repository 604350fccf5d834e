package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.c2d.DeviceInbox;
import io.netty.buffer.ByteBuf;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Cloud-to-device messages over MQTT. A device that subscribes to {@code devices/{d}/messages/devicebound/#}
 * becomes the C2D service's inbox for that device; each message is published at QoS 1 on
 * {@code devices/{d}/messages/devicebound/{bag}} and the device's PUBACK completes it. The bag starts with the
 * {@code %24.}-encoded system properties: the Java SDK parses properties only from the first {@code %24} on, and
 * the Node SDK needs every {@code /} in the bag encoded. Modules may subscribe (the Java SDK does) but IoT Hub sends
 * cloud-to-device messages to devices only.
 */
public final class C2dTopicHandler implements MqttTopicHandler {
    private static final String DEVICEBOUND_FILTER_SUFFIX = "/messages/devicebound/#";

    private final CloudToDeviceService c2d;
    private final Map<MqttDeviceSession, MqttInbox> inboxes = new ConcurrentHashMap<>();

    public C2dTopicHandler(CloudToDeviceService c2d) {
        this.c2d = c2d;
    }

    @Override
    public boolean ownsPublish(String topic) {
        return false;
    }

    @Override
    public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
        return CompletableFuture.failedFuture(new HubException(HubErrorCode.InvalidOperation,
                "devices do not publish to cloud-to-device topics"));
    }

    /**
     * Exactly {@code devices/{d}/messages/devicebound/#} or {@code devices/{d}/modules/{m}/messages/devicebound/#}:
     * IoT Hub filters no subtopics, so {@code .../devicebound/x/#} or a {@code +} for an id is refused. (The ACL has
     * already checked that the ids are the connection's own.)
     */
    @Override
    public boolean ownsSubscription(String topicFilter) {
        if (!topicFilter.startsWith("devices/") || !topicFilter.endsWith(DEVICEBOUND_FILTER_SUFFIX)) {
            return false;
        }
        String[] ids = topicFilter.substring("devices/".length(),
                topicFilter.length() - DEVICEBOUND_FILTER_SUFFIX.length()).split("/", -1);
        boolean shape = ids.length == 1 || (ids.length == 3 && ids[1].equals("modules"));
        for (String id : ids) {
            shape &= !id.isEmpty() && !id.equals("+") && !id.equals("#");
        }
        return shape;
    }

    @Override
    public void onSubscribed(MqttDeviceSession session, String topicFilter) {
        if (session.identity().moduleId() != null) {
            return;
        }
        inboxes.computeIfAbsent(session, s -> {
            MqttInbox inbox = new MqttInbox(s);
            c2d.attach(inbox);
            return inbox;
        });
    }

    @Override
    public void onSessionClosed(MqttDeviceSession session) {
        MqttInbox inbox = inboxes.remove(session);
        if (inbox != null) {
            c2d.detach(inbox);
        }
    }

    /** The topic a message is delivered on. */
    static String topicFor(C2dMessage message) {
        StringBuilder bag = new StringBuilder();
        PropertyBag.append(bag, "$.mid", message.messageId());
        PropertyBag.append(bag, "$.to", "/devices/" + message.deviceId() + "/messages/deviceBound");
        if (message.correlationId() != null) {
            PropertyBag.append(bag, "$.cid", message.correlationId());
        }
        if (message.userId() != null) {
            PropertyBag.append(bag, "$.uid", message.userId());
        }
        if (message.contentType() != null) {
            PropertyBag.append(bag, "$.ct", message.contentType());
        }
        if (message.contentEncoding() != null) {
            PropertyBag.append(bag, "$.ce", message.contentEncoding());
        }
        PropertyBag.append(bag, "$.exp", Instant.ofEpochMilli(message.expiryMillis()).toString());
        PropertyBag.append(bag, "iothub-ack", message.ack());
        message.properties().forEach((name, value) -> PropertyBag.append(bag, name, value == null ? "" : value));
        return "devices/" + message.deviceId() + "/messages/devicebound/" + bag;
    }

    private record MqttInbox(MqttDeviceSession session) implements DeviceInbox {
        @Override
        public String deviceId() {
            return session.identity().deviceId();
        }

        @Override
        public String generationId() {
            return session.identity().generationId();
        }

        @Override
        public CompletableFuture<Void> deliver(C2dMessage message) {
            String topic = topicFor(message);
            if (!session.isSubscribed(topic)) {
                return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotOnline,
                        deviceId() + " no longer subscribes to its cloud-to-device topic"));
            }
            return session.publish(topic, message.body(), 1);
        }
    }
}
