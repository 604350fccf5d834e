package io.ferryhub.signaling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BridgePathTest {
    @Test
    void aDevicesPathNamesHubDeviceAndStream() {
        assertEquals("/bridges/hub.example/d1/s-1", BridgePath.of("hub.example", "d1", null, "s-1"));
    }

    @Test
    void aModulesPathHasItsModuleSegment() {
        assertEquals("/bridges/h/d1/modules/m1/s", BridgePath.of("h", "d1", "m1", "s"));
    }

    @Test
    void identifiersAreEncodedSoTheyCannotAddSegments() {
        String path = BridgePath.of("h", "a/b", "m/../x", "s");
        assertEquals("/bridges/h/a%2Fb/modules/m%2F..%2Fx/s", path);
        assertEquals(7, path.split("/").length, "exactly /bridges/h/device/modules/module/stream");
        assertTrue(BridgePath.of("h", "d é", null, "s").contains("d%20%C3%A9"));
    }
}
