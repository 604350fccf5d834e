package io.ferryhub.hub.adapter;

import io.ferryhub.hub.service.auth.FailedAuthentications;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockedAddressPolicyTest {
    @Test
    void refusesOnlyTheBlockedAddressAndCountsEachRefusal() throws Exception {
        FailedAuthentications failures = new FailedAuthentications(new FailedAuthentications.Settings(1,
                Duration.ofMinutes(1), Duration.ofMinutes(1), 100, false));
        BlockedAddressPolicy policy = new BlockedAddressPolicy(failures);
        InetAddress blocked = InetAddress.getByName("127.0.0.2");
        assertTrue(policy.admits(blocked), "nothing failed yet");

        failures.failed("d1", blocked);
        assertFalse(policy.admits(blocked));
        assertFalse(policy.admits(blocked));
        assertTrue(policy.admits(InetAddress.getByName("127.0.0.1")));
        assertEquals(2, failures.refusedAtAcceptCount());
        assertEquals("failed_authentications", policy.reason());
    }
}
