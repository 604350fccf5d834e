package io.ferryhub.hub.service.twin;

import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.storage.eventlog.EventLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps every twin change as an event in IoT Hub's {@code twinChangeEvents} shape, in an event log of its own,
 * for routing to read (routing itself is not part of the hub yet). Appending only enqueues, so the twin's lock is
 * never held for it; the twin itself is already durable when the event is recorded.
 */
public final class TwinChangeEventLog implements TwinChangeListener {
    private static final Logger log = LoggerFactory.getLogger(TwinChangeEventLog.class);

    private final EventLog events;
    private final String hubName;

    public TwinChangeEventLog(EventLog events, String hubName) {
        this.events = events;
        this.hubName = hubName;
    }

    @Override
    public void changeEvent(TwinChangeEvent event) {
        Map<String, String> system = new LinkedHashMap<>();
        system.put("content-type", "application/json");
        system.put("content-encoding", "utf-8");
        system.put("iothub-message-source", "twinChangeEvents");
        system.put("iothub-connection-device-id", event.deviceId());
        Map<String, String> application = new LinkedHashMap<>();
        application.put("hubName", hubName);
        application.put("deviceId", event.deviceId());
        if (event.moduleId() != null) {
            system.put("iothub-connection-module-id", event.moduleId());
            application.put("moduleId", event.moduleId());
        }
        application.put("operationTimestamp", event.operationTimestamp());
        application.put("iothub-message-schema", "twinChangeNotification");
        application.put("opType", event.opType());
        events.append(0, new EventData(system, application, Json.toBytes(event.body()))).exceptionally(e -> {
            log.warn("the twin change event of {} could not be kept: {}", event.deviceId(), e.toString());
            return null;
        });
    }
}
