package io.ferryhub.hub.service.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.gateway.ChannelAuditEvent;
import io.ferryhub.gateway.StreamAuditEvent;
import io.ferryhub.gateway.StreamEnds;
import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.storage.eventlog.EventLog;
import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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
            putByteCounts(body, e);
        }
        append(e.hubName(), e.deviceId(), e.moduleId(), e.kind().name(), e.streamName(), body, e.streamId());
    }

    /**
     * A stream's byte counts as the relay keeps them (by the order the ends connected) and, when the first end's
     * side is known, by device and service: the one shape for the audit trail and the stream list.
     */
    public static void putByteCounts(ObjectNode body, StreamEnds ends) {
        body.put("bytesFirstToSecond", ends.bytesFirstToSecond());
        body.put("bytesSecondToFirst", ends.bytesSecondToFirst());
        if (ends.firstSide() != null) {
            body.put("first", ends.firstSide().label());
            body.put("bytesDeviceToService", ends.bytesSentBy(StreamToken.Side.DEVICE).getAsLong());
            body.put("bytesServiceToDevice", ends.bytesSentBy(StreamToken.Side.SERVICE).getAsLong());
        }
    }

    /** A tunnel channel opened, closed or denied: {@code opType} channelOpened, channelClosed, channelDenied. */
    public void acceptChannel(ChannelAuditEvent e) {
        ObjectNode body = Json.object();
        body.put("streamId", e.streamId());
        body.put("channel", e.channel());
        body.put("deviceId", e.deviceId());
        body.put("moduleId", e.moduleId());
        body.put("initiator", e.initiator());
        body.put("target", e.target());
        body.put("opened", e.opened().toString());
        if (e.closed() != null) {
            body.put("closed", e.closed().toString());
            body.put("durationMs", Duration.between(e.opened(), e.closed()).toMillis());
            body.put("bytesServiceToDevice", e.bytesServiceToDevice());
            body.put("bytesDeviceToService", e.bytesDeviceToService());
        }
        body.put("reason", e.reason());
        append(e.hubName(), e.deviceId(), e.moduleId(), e.kind().name(), StreamGateway.TUNNEL_SUBPROTOCOL, body,
                e.streamId());
    }

    /** A stream request the identity's stream policy refused at signaling ({@code opType} streamDenied). */
    public void denied(String hubName, String deviceId, String moduleId, String streamName, String initiator,
                       StreamPolicy.Denial denial, Instant at) {
        ObjectNode body = Json.object();
        body.put("streamName", streamName);
        body.put("deviceId", deviceId);
        body.put("moduleId", moduleId);
        body.put("initiator", initiator);
        body.put("at", at.toString());
        body.put("rule", denial.rule());
        body.put("check", denial.check().label());
        body.put("errorCode", denial.check().errorCode().code());
        body.put("reason", denial.message());
        append(hubName, deviceId, moduleId, "streamDenied", streamName, body, "(denied)");
    }

    private void append(String hubName, String deviceId, String moduleId, String opType, String streamName,
                        ObjectNode body, String streamId) {
        Map<String, String> system = new LinkedHashMap<>();
        system.put("iothub-connection-device-id", deviceId);
        if (moduleId != null) {
            system.put("iothub-connection-module-id", moduleId);
        }
        system.put("iothub-message-source", MESSAGE_SOURCE);
        system.put("content-type", "application/json");
        system.put("content-encoding", "utf-8");
        Map<String, String> application = new LinkedHashMap<>();
        application.put("hubName", hubName);
        application.put("deviceId", deviceId);
        if (moduleId != null) {
            application.put("moduleId", moduleId);
        }
        application.put("opType", opType);
        application.put("streamName", streamName);
        byte[] json = Json.toString(body).getBytes(StandardCharsets.UTF_8);
        events.append(partitionOfDevice.applyAsInt(deviceId), new EventData(system, application, json))
                .whenComplete((position, failure) -> {
                    if (failure != null) {
                        log.warn("stream {}: audit event {} not stored: {}", streamId, opType, failure.toString());
                    }
                });
    }
}
