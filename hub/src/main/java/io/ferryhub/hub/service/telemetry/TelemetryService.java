package io.ferryhub.hub.service.telemetry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.storage.eventlog.EventLog;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32;

/**
 * Device-to-cloud telemetry: IoT Hub's rules for a message entering the built-in event stream. It checks the size
 * as IoT Hub counts it, stamps the anti-spoofing properties (who sent it, how it authenticated), and appends it to
 * the sender's partition. The returned future completes when the message is durable: only then may a device
 * adapter acknowledge it.
 */
public final class TelemetryService {
    /** IoT Hub's limit for one device-to-cloud message. */
    public static final int MAX_MESSAGE_BYTES = 256 * 1024;
    private static final int MAX_MESSAGE_ID_LENGTH = 128;

    /** Properties only the hub sets; a device cannot spoof them. */
    private static final Set<String> HUB_STAMPED = Set.of("iothub-connection-device-id", "iothub-connection-module-id",
            "iothub-connection-auth-method", "iothub-connection-auth-generation-id", "iothub-enqueuedtime",
            "iothub-message-source", "dt-dataschema");

    /** Where a message came from, stamped as {@code iothub-message-source}. */
    public enum Source {
        Telemetry,
        /** An MQTT Will message, published by the hub when the device dropped without DISCONNECT. */
        Will
    }

    /**
     * What a message must pass before it is stored: the hub's device-to-cloud throttle and daily quota. Throws
     * {@link HubException} ({@code ThrottlingException}, {@code IotHubQuotaExceeded}) to refuse it; must not block.
     */
    @FunctionalInterface
    public interface Admission {
        Admission ALL = messageBytes -> { };

        void admit(int messageBytes);
    }

    private final EventLog eventLog;
    private final Admission admission;

    private final LongAdder accepted = new LongAdder();

    public TelemetryService(EventLog eventLog) {
        this(eventLog, Admission.ALL);
    }

    public TelemetryService(EventLog eventLog, Admission admission) {
        this.eventLog = eventLog;
        this.admission = admission;
    }

    /**
     * The message's size as IoT Hub counts it: the body, the values of the system properties, and the names and
     * values of the application properties.
     */
    public static int messageSize(DeviceMessage message) {
        int size = message.body().length;
        for (String value : message.systemProperties().values()) {
            size += utf8Length(value);
        }
        for (Map.Entry<String, String> e : message.applicationProperties().entrySet()) {
            size += utf8Length(e.getKey()) + utf8Length(e.getValue());
        }
        return size;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** The partition of a device's messages: stable, so one device's messages stay in order. */
    public int partitionFor(String deviceId) {
        CRC32 crc = new CRC32();
        crc.update(deviceId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % eventLog.partitionCount());
    }

    /**
     * Stores a device's message. Fails (exceptionally) with {@link HubException}: {@code MessageTooLarge} past
     * 256 KB, {@code ArgumentInvalid} for a malformed message id, or whatever the storage reports.
     */
    public CompletableFuture<EventPosition> send(AuthenticatedDevice sender, DeviceMessage message, Source source) {
        int size = messageSize(message);
        if (size > MAX_MESSAGE_BYTES) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.MessageTooLarge,
                    "message of " + size + " bytes is over IoT Hub's " + MAX_MESSAGE_BYTES + "-byte limit"));
        }
        String messageId = message.systemProperties().get("message-id");
        if (messageId != null && messageId.length() > MAX_MESSAGE_ID_LENGTH) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "message-id is longer than " + MAX_MESSAGE_ID_LENGTH + " characters"));
        }
        try {
            admission.admit(size);
        } catch (HubException e) {
            return CompletableFuture.failedFuture(e);
        }
        Map<String, String> system = new LinkedHashMap<>();
        message.systemProperties().forEach((k, v) -> {
            if (!HUB_STAMPED.contains(k)) {
                system.put(k, v);
            }
        });
        system.put("iothub-connection-device-id", sender.deviceId());
        if (sender.moduleId() != null) {
            system.put("iothub-connection-module-id", sender.moduleId());
        }
        system.put("iothub-connection-auth-method", authMethodStamp(sender));
        system.put("iothub-connection-auth-generation-id", sender.generationId());
        system.put("iothub-message-source", "Telemetry");
        Map<String, String> application = message.applicationProperties();
        if (source == Source.Will) {
            application = new LinkedHashMap<>(application);
            application.put("iothub-MessageType", "Will");
        }
        return eventLog.append(partitionFor(sender.deviceId()), new EventData(system, application, message.body()))
                .whenComplete((position, failure) -> {
                    if (failure == null) {
                        accepted.increment();
                    }
                });
    }

    /** Telemetry messages stored in the event stream since the hub started. */
    public long acceptedCount() {
        return accepted.sum();
    }

    private static String authMethodStamp(AuthenticatedDevice sender) {
        String scope = sender.moduleId() == null ? "device" : "module";
        return "{\"scope\":\"" + scope + "\",\"type\":\"" + sender.authMethod()
                + "\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}";
    }
}
