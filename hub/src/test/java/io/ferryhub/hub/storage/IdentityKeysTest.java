package io.ferryhub.hub.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class IdentityKeysTest {
    @Test
    void aDeviceKeyIsItsIdAndAModuleKeyAddsASeparator() {
        assertEquals("dev", IdentityKeys.of("dev", null));
        assertEquals("dev\0mod", IdentityKeys.of("dev", "mod"));
    }

    @Test
    void idsAreReadBackFromKeys() {
        for (String[] ids : new String[][] {{"dev", null}, {"dev", "mod"}, {"a.b-c", "m/1"}, {"d", ""}}) {
            String key = IdentityKeys.of(ids[0], ids[1]);
            assertEquals(ids[0], IdentityKeys.deviceIdOf(key));
            assertEquals(ids[1], IdentityKeys.moduleIdOf(key));
        }
        assertNull(IdentityKeys.moduleIdOf("plain"));
    }

    @Test
    void aDevicesModulesFollowItInKeyOrderBeforeAnyOtherDevice() {
        // device ids may contain characters that sort below most others ('!', '#'), never NUL
        TreeSet<String> keys = new TreeSet<>(List.of(IdentityKeys.of("dev!", null), IdentityKeys.of("dev", "zz"),
                IdentityKeys.of("dev", null), IdentityKeys.of("dev", "a"), IdentityKeys.of("dev#", null)));
        assertEquals(List.of("dev", "dev\0a", "dev\0zz", "dev!", "dev#"), List.copyOf(keys));
        assertTrue(keys.subSet("dev\0", "dev\1").size() == 2, "a prefix scan finds exactly the device's modules");
    }
}
