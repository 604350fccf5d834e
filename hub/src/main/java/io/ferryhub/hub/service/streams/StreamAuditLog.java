package io.ferryhub.hub.service.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.gateway.StreamAuditEvent;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.storage.eventlog.EventLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Writes the gateway's stream audit events into the hub's event stream (the device's partition, beside its
 * telemetry), so {@code monitor-events} and any reader of the built-in endpoint see who reached which device,
 * when, for how long and how many bytes, the way IoT Hub's lifecycle events carry {@code opType} and a JSON body.
 */
public final class StreamAuditLog implements Consumer<StreamAuditEvent> {
    private static final Logger log = LoggerFactory.getLogger(StreamAuditLog.class);
    public static final String MESSAGE_SOURCE = "deviceStreamEvents";

    private final EventLog events;
    private final ToIntFunction<String> partitionOfDevice;

    public StreamAuditLog(EventLog events, ToIntFunction<String> partitionOfDevice) {
        this.events = events;
        this.partitionOfDevice = partitionOfDevice;
    }

    @Override
    public void accept(StreamAuditEvent e) {
        Map<String, String> system = new LinkedHashMap<>();
        system.put("iothub-connection-device-id", e.deviceId());
        if (e.moduleId() != null) {
            system.put("iothub-connection-module-id", e.moduleId());
        }
        system.put("iothub-message-source", MESSAGE_SOURCE);
        system.put("content-type", "application/json");
        system.put("content-encoding", "utf-8");
        Map<String, String> application = new LinkedHashMap<>();
        application.put("hubName", e.hubName());
        application.put("deviceId", e.deviceId());
        if (e.moduleId() != null) {
            application.put("moduleId", e.moduleId());
        }
        application.put("opType", e.kind().name());
        application.put("streamName", e.streamName());
        ObjectNode body = Json.object();
        body.put("streamId", e.streamId());
        body.put("streamName", e.streamName());
        body.put("deviceId", e.deviceId());
        body.put("moduleId", e.moduleId());
        body.put("initiator", e.initiator());
        body.put("mode", e.tunnel() ? "tunnel" : "stream");
        body.put("opened", e.opened().toString());
        if (e.closed() != null) {
            body.put("closed", e.closed().toString());
            body.put("durationMs", Duration.between(e.opened(), e.closed()).toMillis());
            body.put("reason", e.reason());
            body.put("bytesFirstToSecond", e.bytesFirstToSecond());
            body.put("bytesSecondToFirst", e.bytesSecondToFirst());
        }
        byte[] json = Json.toString(body).getBytes(StandardCharsets.UTF_8);
        events.append(partitionOfDevice.applyAsInt(e.deviceId()), new EventData(system, application, json))
                .whenComplete((position, failure) -> {
                    if (failure != null) {
                        log.warn("stream {}: audit event {} not stored: {}", e.streamId(), e.kind(),
                                failure.toString());
                    }
                });
    }
}
