package io.ferryhub.hub.service.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeviceConnectionsTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final DeviceConnections connections = new DeviceConnections(timer);
    private final List<String> events = new ArrayList<>();

    DeviceConnectionsTest() {
        connections.addListener(new DeviceConnections.ConnectionListener() {
            @Override
            public void connected(DeviceLink link) {
                events.add("connected " + ((FakeDeviceLink) link).name);
            }

            @Override
            public void disconnected(DeviceLink link) {
                events.add("disconnected " + ((FakeDeviceLink) link).name);
            }

            @Override
            public void activity(DeviceLink link) {
                events.add("activity " + ((FakeDeviceLink) link).name);
            }
        });
    }

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aNewConnectionOfTheSameIdentityReplacesAndClosesTheOldOne() {
        FakeDeviceLink first = new FakeDeviceLink("first", "d1", null, "mqtt");
        FakeDeviceLink second = new FakeDeviceLink("second", "d1", null, "amqp");
        connections.register(first);
        connections.register(second);
        assertEquals(HubErrorCode.LinkCreationConflict, first.closedWith);
        assertSame(second, connections.find("d1", null).orElseThrow());
        assertEquals(List.of("connected first", "disconnected first", "connected second"), events);
        connections.unregister(first); // the old link's late unregister must not remove the new one
        assertTrue(connections.isConnected("d1", null));
        assertEquals(1, connections.connectedCount());
    }

    @Test
    void devicesAndTheirModulesAreSeparateIdentities() {
        connections.register(new FakeDeviceLink("dev", "d1", null, "mqtt"));
        connections.register(new FakeDeviceLink("mod", "d1", "m1", "mqtt"));
        connections.register(new FakeDeviceLink("other", "d2", null, "amqp"));
        assertEquals(3, connections.connectedCount());
        assertEquals(Map.of("amqp", 1, "mqtt", 2), connections.connectedByTransport());
        assertTrue(connections.isConnected("d1", "m1"));
        assertFalse(connections.isConnected("d1", "m2"));
    }

    @Test
    void disconnectDeviceCutsTheDeviceAndItsModulesOnly() {
        FakeDeviceLink dev = new FakeDeviceLink("dev", "d1", null, "mqtt");
        FakeDeviceLink mod = new FakeDeviceLink("mod", "d1", "m1", "mqtt");
        FakeDeviceLink other = new FakeDeviceLink("other", "d10", null, "mqtt");
        connections.register(dev);
        connections.register(mod);
        connections.register(other);
        connections.disconnectDevice("d1", HubErrorCode.DeviceNotFound);
        assertEquals(HubErrorCode.DeviceNotFound, dev.closedWith);
        assertEquals(HubErrorCode.DeviceNotFound, mod.closedWith);
        assertEquals(null, other.closedWith);
        connections.disconnectModule("d10", "m1", HubErrorCode.DeviceNotFound);
        assertEquals(null, other.closedWith);
    }

    @Test
    void awaitLinkAnswersAtOnceWaitsForAReadyLinkOrTimesOut() throws Exception {
        assertEquals(Optional.empty(), connections.awaitLink("d1", null, l -> true, 0).get(1, TimeUnit.SECONDS));
        FakeDeviceLink link = new FakeDeviceLink("l", "d1", null, "mqtt");
        assertFalse(connections.isAwaited("d1", null));
        CompletableFuture<Optional<DeviceLink>> waiting = connections.awaitLink("d1", null,
                l -> ((FakeDeviceLink) l).ready, 30_000);
        assertTrue(connections.isAwaited("d1", null), "a call waits for d1");
        assertFalse(connections.isAwaited("d1", "m1"), "not for its module");
        connections.register(link);
        assertFalse(waiting.isDone(), "registered but not ready");
        link.ready = true;
        connections.changed(link);
        assertSame(link, waiting.get(5, TimeUnit.SECONDS).orElseThrow());
        assertFalse(connections.isAwaited("d1", null), "the wait is over");
        assertSame(link, connections.awaitLink("d1", null, l -> true, 0).get().orElseThrow());
        assertEquals(Optional.empty(), connections.awaitLink("d2", null, l -> true, 50).get(5, TimeUnit.SECONDS));
    }

    @Test
    void activityIsPassedToListeners() {
        FakeDeviceLink link = new FakeDeviceLink("l", "d1", null, "mqtt");
        connections.activity(link);
        assertEquals(List.of("activity l"), events);
    }
}
