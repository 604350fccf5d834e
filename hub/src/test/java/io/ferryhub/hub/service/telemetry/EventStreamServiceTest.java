package io.ferryhub.hub.service.telemetry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.storage.eventlog.FileConsumerGroupStore;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EventStreamServiceTest {
    @TempDir
    Path dir;

    @Test
    void consumerGroupsFollowIotHubsRulesAndSurviveARestart() throws Exception {
        Path file = dir.resolve("consumer-groups.json");
        try (SegmentedEventLog log = new SegmentedEventLog(dir.resolve("events"), SegmentedEventLog.Options.defaults());
             EventStreamService service = new EventStreamService(log, new FileConsumerGroupStore(file))) {
            assertEquals(List.of("$Default"), service.consumerGroups());
            service.createConsumerGroup("dashboards");
            assertEquals(HubErrorCode.ArgumentInvalid,
                    assertThrows(HubException.class, () -> service.createConsumerGroup("-bad")).errorCode());
            assertEquals(HubErrorCode.InvalidOperation,
                    assertThrows(HubException.class, () -> service.createConsumerGroup("Dashboards")).errorCode());
            assertEquals(HubErrorCode.InvalidOperation,
                    assertThrows(HubException.class, () -> service.deleteConsumerGroup("$Default")).errorCode());
            for (int i = 2; i < EventStreamService.MAX_CONSUMER_GROUPS; i++) {
                service.createConsumerGroup("group" + i);
            }
            assertEquals(HubErrorCode.IotHubQuotaExceeded,
                    assertThrows(HubException.class, () -> service.createConsumerGroup("onemore")).errorCode());
            service.deleteConsumerGroup("group5");
        }
        try (SegmentedEventLog log = new SegmentedEventLog(dir.resolve("events"), SegmentedEventLog.Options.defaults());
             EventStreamService service = new EventStreamService(log, new FileConsumerGroupStore(file))) {
            assertEquals(19, service.consumerGroups().size());
            assertEquals("dashboards", service.consumerGroups().get(1));
        }
    }

    @Test
    void readsResumeExactlyWhereThePreviousReadStopped() throws Exception {
        try (SegmentedEventLog log = new SegmentedEventLog(dir.resolve("events"), SegmentedEventLog.Options.defaults());
             EventStreamService service = new EventStreamService(log, new FileConsumerGroupStore(dir.resolve("g.json")))) {
            for (int i = 0; i < 25; i++) {
                log.append(2, new EventData(Map.of(), Map.of(), ("e" + i).getBytes(StandardCharsets.UTF_8)))
                        .get(30, TimeUnit.SECONDS);
            }
            EventStreamService.ReadResult first = service.read(null, 2, StartPosition.earliest(), 10, Duration.ZERO)
                    .get(30, TimeUnit.SECONDS);
            assertEquals(10, first.events().size());
            EventStreamService.ReadResult second = service.read("$Default", 2,
                    new StartPosition.Offset(first.nextOffset(), true), 100, Duration.ZERO).get(30, TimeUnit.SECONDS);
            assertEquals(15, second.events().size());
            assertEquals(10, second.events().get(0).sequenceNumber());
            assertEquals("e24", new String(second.events().get(14).data().body(), StandardCharsets.UTF_8));

            ExecutionException badGroup = assertThrows(ExecutionException.class,
                    () -> service.read("nope", 2, StartPosition.earliest(), 1, Duration.ZERO).get(30, TimeUnit.SECONDS));
            assertEquals(HubErrorCode.ArgumentInvalid, assertInstanceOf(HubException.class, badGroup.getCause()).errorCode());
            ExecutionException badPartition = assertThrows(ExecutionException.class,
                    () -> service.read(null, 9, StartPosition.earliest(), 1, Duration.ZERO).get(30, TimeUnit.SECONDS));
            assertEquals(HubErrorCode.PartitionNotFound, assertInstanceOf(HubException.class, badPartition.getCause()).errorCode());
        }
    }
}
