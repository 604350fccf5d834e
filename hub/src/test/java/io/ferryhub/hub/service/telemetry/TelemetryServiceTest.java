package io.ferryhub.hub.service.telemetry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.ferryhub.hub.storage.eventlog.EventReader;
import io.ferryhub.hub.storage.eventlog.SegmentedEventLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TelemetryServiceTest {
    @TempDir
    Path dir;

    private static final AuthenticatedDevice DEVICE = new AuthenticatedDevice("dev-1", null, "sas", "6371", Long.MAX_VALUE);

    @Test
    void messagesAreStampedAndStoredInTheSendersPartition() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults())) {
            TelemetryService telemetry = new TelemetryService(log);
            byte[] body = "{\"t\":21.5}".getBytes(StandardCharsets.UTF_8);
            DeviceMessage message = new DeviceMessage(
                    Map.of("message-id", "m1", "content-type", "application/json",
                            "iothub-connection-device-id", "spoofed"),
                    Map.of("alert", "true"), body);
            EventPosition position = telemetry.send(DEVICE, message, TelemetryService.Source.Telemetry)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(telemetry.partitionFor("dev-1"), position.partition());
            try (EventReader reader = log.openReader(position.partition(), StartPosition.earliest())) {
                List<StoredEvent> events = reader.poll(10, Duration.ofSeconds(1));
                assertEquals(1, events.size());
                Map<String, String> system = events.get(0).data().systemProperties();
                assertEquals("dev-1", system.get("iothub-connection-device-id"));
                assertEquals("m1", system.get("message-id"));
                assertEquals("application/json", system.get("content-type"));
                assertEquals("6371", system.get("iothub-connection-auth-generation-id"));
                assertEquals("Telemetry", system.get("iothub-message-source"));
                assertEquals("{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
                        system.get("iothub-connection-auth-method"));
                assertFalse(system.containsKey("iothub-connection-module-id"));
                assertEquals(Map.of("alert", "true"), events.get(0).data().applicationProperties());
                assertArrayEquals(body, events.get(0).data().body());
            }
        }
    }

    @Test
    void willMessagesAreMarked() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults())) {
            TelemetryService telemetry = new TelemetryService(log);
            EventPosition position = telemetry.send(DEVICE, new DeviceMessage(Map.of(), Map.of(), new byte[]{1}),
                    TelemetryService.Source.Will).get(30, TimeUnit.SECONDS);
            try (EventReader reader = log.openReader(position.partition(), StartPosition.earliest())) {
                assertEquals("Will", reader.poll(1, Duration.ofSeconds(1)).get(0).data().applicationProperties()
                        .get("iothub-MessageType"));
            }
        }
    }

    @Test
    void theSizeLimitCountsBodySystemValuesAndApplicationNamesAndValues() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir, SegmentedEventLog.Options.defaults())) {
            TelemetryService telemetry = new TelemetryService(log);
            // 256 KB exactly: body + "m1" (system value) + "k"+"v" (application name and value)
            byte[] body = new byte[TelemetryService.MAX_MESSAGE_BYTES - 4];
            DeviceMessage atLimit = new DeviceMessage(Map.of("message-id", "m1"), Map.of("k", "v"), body);
            assertEquals(TelemetryService.MAX_MESSAGE_BYTES, TelemetryService.messageSize(atLimit));
            telemetry.send(DEVICE, atLimit, TelemetryService.Source.Telemetry).get(30, TimeUnit.SECONDS);

        // one byte more
        DeviceMessage overLimit = new DeviceMessage(Map.of("message-id", "m22"), Map.of("k", "v"), body);
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> telemetry.send(DEVICE, overLimit, TelemetryService.Source.Telemetry).get(30, TimeUnit.SECONDS));
            assertEquals(HubErrorCode.MessageTooLarge, assertInstanceOf(HubException.class, failure.getCause()).errorCode());
        }
    }
}
