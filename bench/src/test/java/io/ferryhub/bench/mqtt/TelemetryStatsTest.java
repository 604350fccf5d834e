package io.ferryhub.bench.mqtt;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** How the MQTT benchmark splits one run of publishing into phases, and reads its shapes (nothing is timed here). */
class TelemetryStatsTest {
    @Test
    void eachPhaseRecordsTheMessagesPublishedInItsOwnWindowAndCountersStayWithTheFirst() {
        TelemetryStats cold = new TelemetryStats();
        cold.window.open();
        long publishedCold = System.nanoTime();
        TelemetryStats warm = cold.nextPhase();
        cold.window.close();
        warm.window.open();
        long publishedWarm = System.nanoTime();
        warm.window.close();
        long publishedAfter = System.nanoTime();

        cold.onAck(publishedCold, publishedCold + 2_000_000L);
        cold.onAck(publishedWarm, publishedWarm + 5_000_000L);
        cold.onAck(publishedAfter, publishedAfter + 9_000_000L); // after both windows: counted, not timed
        cold.onRead(publishedWarm, publishedWarm + 7_000_000L);

        assertEquals(3, cold.acked.sum());
        assertEquals(1, cold.read.sum());
        assertEquals(1, cold.publishToAck.count());
        assertEquals(2.0, cold.publishToAck.summary().p50Ms());
        assertEquals(1, warm.publishToAck.count());
        assertEquals(5.0, warm.publishToAck.summary().p50Ms());
        assertEquals(0, cold.publishToRead.count());
        assertEquals(7.0, warm.publishToRead.summary().p50Ms());
    }

    @Test
    void shapesAreDevicesTimesMessagesInFlight() {
        assertEquals(List.of(new TelemetryShape(10, 1), new TelemetryShape(1000, 4)),
                TelemetryShape.parseList("10x1, 1000x4"));
        assertEquals("100x4", new TelemetryShape(100, 4).label());
        assertThrows(IllegalArgumentException.class, () -> TelemetryShape.parseList("10"));
        assertThrows(IllegalArgumentException.class, () -> TelemetryShape.parseList("0x1"));
    }
}
