package io.ferryhub.hub.service.auth;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailedAuthenticationsTest {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);

    private static InetAddress address(int last) throws Exception {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
    }

    private FailedAuthentications tracker(int threshold, int maxTracked, boolean disable) {
        return new FailedAuthentications(new FailedAuthentications.Settings(threshold, Duration.ofMinutes(1),
                Duration.ofMinutes(5), maxTracked, disable), now::get);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void anAddressIsBlockedAtTheThresholdWithinTheWindowUntilTheBlockEnds() throws Exception {
        FailedAuthentications failures = tracker(3, 100, false);
        failures.failed("d1", address(2));
        failures.failed("d2", address(2));
        assertFalse(failures.isBlocked(address(2)));
        failures.failed("d3", address(2));
        assertTrue(failures.isBlocked(address(2)), "three failures within the minute");
        assertFalse(failures.isBlocked(address(1)), "another address is not affected");
        assertEquals(1, failures.blockCount());
        assertEquals(1, failures.blockedNow());

        advance(Duration.ofMinutes(5).minusMillis(1));
        assertTrue(failures.isBlocked(address(2)));
        advance(Duration.ofMillis(1));
        assertFalse(failures.isBlocked(address(2)), "the block ends after its time");
        failures.failed("d1", address(2));
        assertFalse(failures.isBlocked(address(2)), "the count starts again after a block");
    }

    @Test
    void failuresSpreadBeyondTheWindowDoNotBlock() throws Exception {
        FailedAuthentications failures = tracker(3, 100, false);
        for (int i = 0; i < 10; i++) {
            failures.failed("d1", address(2));
            advance(Duration.ofSeconds(31)); // at most two in any minute
        }
        assertFalse(failures.isBlocked(address(2)));
        assertEquals(10, failures.failureCount());
    }

    @Test
    void aDeviceOverTheThresholdIsDisabledOnlyWhenAskedAndOnlyOnce() throws Exception {
        List<String> disabled = new ArrayList<>();
        FailedAuthentications off = tracker(2, 100, false);
        off.onDeviceOverThreshold((id, reason) -> disabled.add(id));
        for (int i = 0; i < 5; i++) {
            off.failed("victim", address(10 + i));
        }
        assertTrue(disabled.isEmpty(), "off by default");

        FailedAuthentications on = tracker(2, 100, true);
        List<String> reasons = new ArrayList<>();
        on.onDeviceOverThreshold((id, reason) -> {
            disabled.add(id);
            reasons.add(reason);
        });
        for (int i = 0; i < 5; i++) {
            on.failed("victim", address(10 + i)); // from five addresses: no address reaches 2
        }
        assertEquals(List.of("victim"), disabled);
        assertTrue(reasons.get(0).contains("2 failed authentications"), reasons.get(0));
    }

    @Test
    void memoryIsBoundedByEvictingTheLeastRecentKeys() throws Exception {
        FailedAuthentications failures = tracker(2, 50, false);
        for (int i = 0; i < 1000; i++) {
            failures.failed("device-" + i, InetAddress.getByAddress(new byte[] {10, 1, (byte) (i >> 8), (byte) i}));
        }
        assertEquals(50, failures.trackedDevices());
        assertEquals(50, failures.trackedAddresses());
        // blocks are bounded too: 200 addresses each failing twice
        for (int i = 0; i < 200; i++) {
            InetAddress a = InetAddress.getByAddress(new byte[] {10, 2, 0, (byte) i});
            failures.failed(null, a);
            failures.failed(null, a);
        }
        assertTrue(failures.blockedNow() <= 50, "blocked " + failures.blockedNow());
        assertTrue(failures.isBlocked(InetAddress.getByAddress(new byte[] {10, 2, 0, (byte) 199})),
                "the latest block is kept");
    }
}
