package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.telemetry.DeviceMessage;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Device-to-cloud telemetry: {@code devices/{d}/messages/events/{bag}} and
 * {@code devices/{d}/modules/{m}/messages/events/{bag}} (the Java SDK adds a {@code /} after a module's bag). Turns
 * the property bag's {@code $.}-keys into IoT Hub's system properties; every other key is an application property.
 * The PUBACK waits for the telemetry service's durable append.
 */
public final class TelemetryTopicHandler implements MqttTopicHandler {
    private static final String EVENTS = "/messages/events";

    /** The MQTT short names of the system properties a device may set, and the names the event stream uses. */
    private static final Map<String, String> SYSTEM_PROPERTIES = Map.ofEntries(
            Map.entry("$.mid", "message-id"),
            Map.entry("$.cid", "correlation-id"),
            Map.entry("$.uid", "user-id"),
            Map.entry("$.to", "to"),
            Map.entry("$.exp", "absolute-expiry-time"),
            Map.entry("$.ct", "content-type"),
            Map.entry("$.ce", "content-encoding"),
            Map.entry("$.ctime", "creation-time"),
            Map.entry("$.on", "output-name"),
            Map.entry("$.ifid", "iothub-interface-id"),
            Map.entry("$.sub", "dt-subject"),
            Map.entry("$.schema", "message-schema"),
            Map.entry("$.diagid", "diag-id"),
            Map.entry("$.diagctx", "diag-correlation-context"),
            Map.entry("$.tracestate", "tracestate"));
    /** Connection ids a device may send; the hub stamps the authenticated ones instead. */
    private static final String CONNECTION_DEVICE_ID = "$.cdid";
    private static final String CONNECTION_MODULE_ID = "$.cmid";

    private final TelemetryService telemetry;

    public TelemetryTopicHandler(TelemetryService telemetry) {
        this.telemetry = telemetry;
    }

    @Override
    public boolean ownsPublish(String topic) {
        if (!topic.startsWith("devices/")) {
            return false;
        }
        int events = topic.indexOf(EVENTS);
        if (events < 0) {
            return false;
        }
        String identity = topic.substring("devices/".length(), events);
        String[] levels = identity.split("/", -1);
        boolean deviceOrModule = levels.length == 1 || (levels.length == 3 && levels[1].equals("modules"));
        int after = events + EVENTS.length();
        return deviceOrModule && (after == topic.length() || topic.charAt(after) == '/');
    }

    @Override
    public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
        return send(session, topic, payload, TelemetryService.Source.Telemetry);
    }

    @Override
    public CompletableFuture<Void> onWill(MqttDeviceSession session, String topic, ByteBuf payload) {
        return send(session, topic, payload, TelemetryService.Source.Will);
    }

    private CompletableFuture<Void> send(MqttDeviceSession session, String topic, ByteBuf payload,
                                         TelemetryService.Source source) {
        Map<String, String> system = new LinkedHashMap<>();
        Map<String, String> application = new LinkedHashMap<>();
        propertiesOf(topic).forEach((key, value) -> {
            String systemName = SYSTEM_PROPERTIES.get(key);
            if (systemName != null) {
                system.put(systemName, value == null ? "" : value);
            } else if (!key.equals(CONNECTION_DEVICE_ID) && !key.equals(CONNECTION_MODULE_ID)) {
                application.put(key, value == null ? "" : value);
            }
        });
        DeviceMessage message = new DeviceMessage(system, application, ByteBufUtil.getBytes(payload));
        return telemetry.send(session.identity(), message, source).thenApply(position -> null);
    }

    private static Map<String, String> propertiesOf(String topic) {
        String bag = topic.substring(topic.indexOf(EVENTS) + EVENTS.length());
        if (bag.startsWith("/")) {
            bag = bag.substring(1);
        }
        if (bag.endsWith("/")) {
            bag = bag.substring(0, bag.length() - 1);
        }
        return PropertyBag.parse(bag);
    }

    @Override
    public boolean ownsSubscription(String topicFilter) {
        return false;
    }
}
