package io.ferryhub.hub.service.twin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
import io.ferryhub.hub.service.throttling.Throttles;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import io.ferryhub.hub.storage.twin.KeyValueTwinStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TwinService's merge and replace rules, versions, etags and notifications, on a journal store (no sockets). */
class TwinServiceTest {
    @TempDir
    Path dir;
    private JournalStore store;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private RegistryService registry;
    private TwinService twins;
    private final List<String> desiredNotifications = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        store = JournalStore.open(dir);
        registry = new RegistryService(new KeyValueRegistryStore(store), new DeviceConnections(timer),
                new ConnectionStates());
        registry.putDevice("d1", new Device("d1", null, null, null, null, null, null, false, null, null), null);
        twins = new TwinService(new KeyValueTwinStore(store), registry, id -> 0,
                Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC));
        twins.addListener(new TwinChangeListener() {
            @Override
            public void desiredChanged(String deviceId, String moduleId, ObjectNode patch) {
                desiredNotifications.add(deviceId + " " + patch);
            }

            @Override
            public void changeEvent(TwinChangeEvent event) {
                events.add(event.opType());
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        store.close();
    }

    private static ObjectNode obj(String json) {
        return (ObjectNode) Json.parse(json);
    }

    @Test
    void aDevicesTwinGetAndReportedPatchCountAgainstTheTwinThrottlesAndTheServiceSideDoesNot() {
        AtomicLong nanos = new AtomicLong();
        TwinService throttled = new TwinService(new KeyValueTwinStore(store), registry, id -> 0, Clock.systemUTC(),
                new Throttles(ThrottleSettings.s1().withSpec("twin-read=1/min,twin-update=1/min"), nanos::get));
        throttled.deviceView("d1", null);
        HubException read = assertThrows(HubException.class, () -> throttled.deviceView("d1", null));
        assertEquals(HubErrorCode.ThrottlingException, read.errorCode());
        assertTrue(read.getMessage().contains("twin-read rate of this hub (1/min)"), read.getMessage());
        // service reads are counted by the REST router, not here: never twice
        throttled.twin("d1", null);

        assertEquals(2, throttled.reportProperties("d1", null, obj("{\"fw\":\"1.0\"}")));
        HubException update = assertThrows(HubException.class,
                () -> throttled.reportProperties("d1", null, obj("{\"fw\":\"2.0\"}")));
        assertEquals(HubErrorCode.ThrottlingException, update.errorCode());
        assertEquals("1.0", throttled.twin("d1", null).at("/properties/reported/fw").asText(),
                "a throttled patch changes nothing");

        nanos.addAndGet(TimeUnit.MINUTES.toNanos(1));
        assertEquals(2, throttled.deviceView("d1", null).at("/reported/$version").asLong());
        assertEquals(3, throttled.reportProperties("d1", null, obj("{\"fw\":\"2.0\"}")));
    }

    @Test
    void anUntouchedTwinIsTheInitialOne() {
        ObjectNode twin = twins.twin("d1", null);
        assertEquals("d1", twin.get("deviceId").asText());
        // IoT Hub's initial twin: desired and reported sections at version 1
        assertEquals(1, twin.at("/properties/desired/$version").asLong());
        assertEquals(1, twin.at("/properties/reported/$version").asLong());
        assertTrue(twin.get("tags") == null || twin.get("tags").isEmpty());
    }

    @Test
    void patchesMergeBumpVersionsAndNotifyDesiredChanges() {
        twins.update("d1", null, obj("{\"tags\":{\"a\":1,\"n\":{\"x\":1}},\"properties\":{\"desired\":{\"t\":20}}}"),
                null);
        ObjectNode twin = twins.update("d1", null, obj("{\"tags\":{\"n\":{\"y\":2},\"a\":null}}"), "*");
        assertEquals(obj("{\"n\":{\"x\":1,\"y\":2}}"), twin.get("tags"));
        assertEquals(20, twin.at("/properties/desired/t").asInt());
        assertEquals(2, twin.at("/properties/desired/$version").asLong(), "a tags-only patch keeps the desired version");
        assertEquals(List.of("d1 {\"t\":20,\"$version\":2}"), desiredNotifications);
        assertEquals(List.of("updateTwin", "updateTwin"), events);
    }

    @Test
    void replaceDropsTagsAndDesiredPropertiesThatAreNotGiven() {
        twins.update("d1", null, obj("{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"t\":20,\"u\":1}}}"), null);
        ObjectNode twin = twins.replace("d1", null, obj("{\"tags\":{\"b\":2},\"properties\":{\"desired\":{\"t\":21}}}"),
                null);
        assertEquals(obj("{\"b\":2}"), twin.get("tags"));
        assertEquals(21, twin.at("/properties/desired/t").asInt());
        assertTrue(twin.at("/properties/desired/u").isMissingNode());
        assertEquals("replaceTwin", events.get(events.size() - 1));
    }

    @Test
    void theEtagGuardsWrites() {
        ObjectNode first = twins.update("d1", null, obj("{\"tags\":{\"a\":1}}"), null);
        String etag = first.get("etag").asText();
        twins.update("d1", null, obj("{\"tags\":{\"a\":2}}"), "\"" + etag + "\"");
        HubException stale = assertThrows(HubException.class,
                () -> twins.update("d1", null, obj("{\"tags\":{\"a\":3}}"), etag));
        assertEquals(HubErrorCode.PreconditionFailed, stale.errorCode());
        assertEquals(2, twins.twin("d1", null).at("/tags/a").asInt());
    }

    @Test
    void reportedPropertiesAreTheDevicesAndVersionedSeparately() {
        assertEquals(2, twins.reportProperties("d1", null, obj("{\"fw\":\"1.0\",\"$version\":99}")));
        assertEquals(3, twins.reportProperties("d1", null, obj("{\"fw\":null,\"temp\":21.5}")));
        ObjectNode twin = twins.twin("d1", null);
        assertTrue(twin.at("/properties/reported/fw").isMissingNode());
        assertEquals(21.5, twin.at("/properties/reported/temp").asDouble());
        assertEquals(3, twin.at("/properties/reported/$version").asLong());
        HubException byService = assertThrows(HubException.class, () -> twins.update("d1", null,
                obj("{\"properties\":{\"reported\":{\"x\":1}}}"), null));
        assertEquals(HubErrorCode.ArgumentInvalid, byService.errorCode());
    }

    @Test
    void invalidContentAndUnknownDevicesAreRefusedWithoutAWrite() {
        for (String bad : new String[] {"[]", "{\"tags\":[1]}", "{\"tags\":{\"a.b\":1}}", "{\"properties\":1}",
                "{\"properties\":{\"desired\":{\"$x\":1}}}"}) {
            assertThrows(HubException.class, () -> twins.update("d1", null, Json.parse(bad), null), bad);
        }
        assertEquals(HubErrorCode.DeviceNotFound, assertThrows(HubException.class,
                () -> twins.update("nobody", null, obj("{\"tags\":{\"a\":1}}"), null)).errorCode());
        assertFalse(events.contains("updateTwin"));
    }
}
