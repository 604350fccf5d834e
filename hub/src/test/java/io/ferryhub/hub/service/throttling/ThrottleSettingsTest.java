package io.ferryhub.hub.service.throttling;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrottleSettingsTest {
    @Test
    void defaultsAreIotHubS1ForOneUnit() {
        ThrottleSettings s1 = ThrottleSettings.s1();
        assertTrue(s1.enabled());
        assertEquals("connect=100/s,d2c=100/s,c2d=100/min,twin-read=100/s,twin-update=50/s,methods=40/s,"
                + "registry=100/min,query=20/min,streams=5/s", s1.toString());
    }

    @Test
    void unitsScaleTheLimitsIotHubScales() {
        ThrottleSettings ten = ThrottleSettings.s1().withUnits(10);
        assertEquals(Rate.perSecond(120), ten.rateOf(OperationClass.D2C), "max(100/s, 12/s/unit)");
        assertEquals(Rate.perMinute(1000), ten.rateOf(OperationClass.REGISTRY));
        assertEquals(Rate.perMinute(200), ten.rateOf(OperationClass.QUERY));
        assertEquals(Rate.perSecond(400), ten.rateOf(OperationClass.METHODS), "1600 KB/s in 4 KB chunks");
        assertEquals(Rate.perSecond(5), ten.rateOf(OperationClass.STREAMS), "not scaled");
        assertEquals(Rate.perSecond(100), ten.rateOf(OperationClass.TWIN_READ), "not scaled on S1");
    }

    @Test
    void aSpecOverridesSomeClassesAndKeepsTheOthers() {
        ThrottleSettings s = ThrottleSettings.s1().withSpec("d2c=200/s, c2d=1.67/s,methods=160KB/s,registry=5/h");
        assertEquals(new Rate(200, Duration.ofSeconds(1), 200), s.rateOf(OperationClass.D2C));
        assertEquals(new Rate(1.67, Duration.ofSeconds(1), 1.67), s.rateOf(OperationClass.C2D));
        assertEquals(40, s.rateOf(OperationClass.METHODS).amount(), 1e-9);
        assertEquals(Duration.ofHours(1), s.rateOf(OperationClass.REGISTRY).period());
        assertEquals(Rate.perMinute(20), s.rateOf(OperationClass.QUERY));
    }

    @Test
    void badSpecsAreRefusedSayingWhatIsExpected() {
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> ThrottleSettings.s1().withSpec("d2c=0/s"));
        assertTrue(zero.getMessage().contains("--throttling off"), zero.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> ThrottleSettings.s1().withSpec("telemetry=100/s"));
        assertTrue(name.getMessage().contains("d2c"), name.getMessage());
        IllegalArgumentException rate = assertThrows(IllegalArgumentException.class,
                () -> ThrottleSettings.s1().withSpec("d2c=fast"));
        assertTrue(rate.getMessage().contains("100/min"), rate.getMessage());
        IllegalArgumentException bytes = assertThrows(IllegalArgumentException.class,
                () -> ThrottleSettings.s1().withSpec("d2c=100KB/s"));
        assertTrue(bytes.getMessage().contains("counts operations"), bytes.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThrottleSettings.s1().withSpec(""));
        assertThrows(IllegalArgumentException.class, () -> ThrottleSettings.s1().withSpec("d2c=-1/s"));
        assertThrows(IllegalArgumentException.class, () -> ThrottleSettings.s1().withUnits(0));
        assertThrows(IllegalArgumentException.class, () -> ThrottleSettings.s1().withUnits(201));
    }

    @Test
    void offThrottlesNothing() {
        Throttles off = Throttles.off();
        for (int i = 0; i < 10_000; i++) {
            off.admit(OperationClass.STREAMS);
        }
        assertFalse(off.settings().enabled());
    }
}
