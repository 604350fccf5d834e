package io.ferryhub.hub.service.registry;

import io.ferryhub.hub.service.connection.FakeDeviceLink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.hub.service.connection.DeviceLink;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ConnectionStatesTest {
    private final ConnectionStates states = new ConnectionStates();

    @Test
    void anIdentityNeverSeenIsDisconnectedSinceNever() {
        ConnectionStates.State s = states.of("d1", null);
        assertFalse(s.connected());
        assertEquals(ConnectionStates.NEVER, s.connectionStateUpdatedTime());
        assertEquals(ConnectionStates.NEVER, s.lastActivityTime());
    }

    @Test
    void connectActivityAndDisconnectAreTracked() {
        DeviceLink link = link("d1", null);
        states.connected(link);
        ConnectionStates.State connected = states.of("d1", null);
        assertTrue(connected.connected());
        Instant connectedAt = Instant.parse(connected.connectionStateUpdatedTime());
        states.activity(link);
        ConnectionStates.State active = states.of("d1", null);
        assertEquals(connected.connectionStateUpdatedTime(), active.connectionStateUpdatedTime(),
                "activity does not change the connection state time");
        assertFalse(Instant.parse(active.lastActivityTime()).isBefore(connectedAt));
        states.disconnected(link);
        ConnectionStates.State gone = states.of("d1", null);
        assertFalse(gone.connected());
        assertEquals(active.lastActivityTime(), gone.lastActivityTime(), "disconnecting is no activity");
    }

    @Test
    void modulesAreTrackedApartFromTheirDeviceAndForgetting() {
        states.connected(link("d1", "m1"));
        assertTrue(states.of("d1", "m1").connected());
        assertFalse(states.of("d1", null).connected());
        states.forget("d1", "m1");
        assertEquals(ConnectionStates.NEVER, states.of("d1", "m1").lastActivityTime());
        states.activity(link("d2", null));
        assertTrue(states.of("d2", null).connected(), "activity from an unknown link counts as connected");
    }

    private static DeviceLink link(String deviceId, String moduleId) {
        return new FakeDeviceLink(deviceId, deviceId, moduleId, "fake");
    }
}
