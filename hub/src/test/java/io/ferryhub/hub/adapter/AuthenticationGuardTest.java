package io.ferryhub.hub.adapter;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthenticationGuardTest {
    private static InetAddress address(int last) throws Exception {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
    }

    @Test
    void oneAddressIsHeldToItsBoundWhileOthersAreAdmitted() throws Exception {
        AuthenticationGuard guard = new AuthenticationGuard(Duration.ofSeconds(30), 2, 100);
        assertTrue(guard.acquire(address(1)));
        assertTrue(guard.acquire(address(1)));
        assertFalse(guard.acquire(address(1)));
        assertTrue(guard.acquire(address(2)));
        assertEquals(2, guard.unauthenticated(address(1)));
        assertEquals(3, guard.unauthenticatedTotal());

        guard.release(address(1));
        assertTrue(guard.acquire(address(1)), "a released place is free again");
    }

    @Test
    void allAddressesTogetherAreHeldToTheHubWideBound() throws Exception {
        AuthenticationGuard guard = new AuthenticationGuard(Duration.ofSeconds(30), 2, 3);
        assertTrue(guard.acquire(address(1)));
        assertTrue(guard.acquire(address(2)));
        assertTrue(guard.acquire(address(3)));
        assertFalse(guard.acquire(address(4)), "a fourth address is refused at the hub-wide bound");
        assertEquals(3, guard.unauthenticatedTotal());
        assertEquals(0, guard.unauthenticated(address(4)));

        guard.release(address(2));
        assertEquals(2, guard.unauthenticatedTotal());
        assertTrue(guard.acquire(address(4)));
    }

    @Test
    void aRefusalByTheAddressBoundCountsNothingHubWide() throws Exception {
        AuthenticationGuard guard = new AuthenticationGuard(Duration.ofSeconds(30), 1, 10);
        assertTrue(guard.acquire(address(1)));
        for (int i = 0; i < 20; i++) {
            assertFalse(guard.acquire(address(1)));
        }
        assertEquals(1, guard.unauthenticatedTotal());
        guard.release(address(9)); // never counted: changes nothing
        assertEquals(1, guard.unauthenticatedTotal());
    }

    @Test
    void boundsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationGuard(Duration.ZERO, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new AuthenticationGuard(Duration.ofSeconds(1), 1, 0));
    }
}
