package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
import io.ferryhub.hub.service.throttling.ThrottledConnects;
import io.ferryhub.hub.service.throttling.Throttles;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two authenticator decorators: failures counted per address, connects throttled before credentials. */
class MonitoredDeviceAuthenticatorTest {
    private static final AuthenticatedDevice DEVICE = new AuthenticatedDevice("d1", null, "sas", "g1", 0);

    @Test
    void onlyRefusedCredentialsCountAsFailuresWithTheCallersAddress() throws Exception {
        InetAddress from = InetAddress.getByAddress(new byte[] {10, 0, 0, 7});
        FailedAuthentications failures = new FailedAuthentications(new FailedAuthentications.Settings(2,
                Duration.ofMinutes(1), Duration.ofMinutes(1), 100, false));
        DeviceAuthenticator refusing = (id, module, token, certs) -> {
            throw new AuthenticationRefused("wrong key");
        };
        DeviceAuthenticator broken = (id, module, token, certs) -> {
            throw new HubException(HubErrorCode.ServerError, "storage down");
        };
        MonitoredDeviceAuthenticator refused = new MonitoredDeviceAuthenticator(refusing, failures);
        assertThrows(AuthenticationRefused.class, () -> refused.authenticate("d1", null, "t", null, from));
        assertThrows(HubException.class,
                () -> new MonitoredDeviceAuthenticator(broken, failures).authenticate("d1", null, "t", null, from));
        assertEquals(1, failures.failureCount(), "a server error is not the caller's failure");
        assertThrows(AuthenticationRefused.class, () -> refused.authenticate("d1", null, "t", null, from));
        assertTrue(failures.isBlocked(from));

        MonitoredDeviceAuthenticator accepting = new MonitoredDeviceAuthenticator(
                (id, module, token, certs) -> DEVICE, failures);
        assertSame(DEVICE, accepting.authenticate("d1", null, "t", null));
        assertEquals(2, failures.failureCount());
    }

    @Test
    void connectsAreThrottledBeforeTheirCredentialsAreChecked() {
        AtomicInteger checked = new AtomicInteger();
        AtomicLong now = new AtomicLong();
        ThrottledConnects connects = new ThrottledConnects((id, module, token, certs) -> {
            checked.incrementAndGet();
            return DEVICE;
        }, new Throttles(ThrottleSettings.s1().withSpec("connect=2/s"), now::get));
        connects.authenticate("d1", null, "t", null);
        connects.authenticate("d1", null, "t", null);
        HubException throttled = assertThrows(HubException.class,
                () -> connects.authenticate("d1", null, "t", null));
        assertEquals(HubErrorCode.ThrottlingException, throttled.errorCode());
        assertEquals(2, checked.get(), "the refused connect cost no credential check");
        now.addAndGet(500_000_000L);
        connects.authenticate("d1", null, "t", null);
    }
}
