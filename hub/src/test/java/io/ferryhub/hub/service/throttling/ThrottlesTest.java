package io.ferryhub.hub.service.throttling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrottlesTest {
    @Test
    void eachClassHasItsOwnLimitAndRefusalsAreThrottlingExceptions() {
        AtomicLong now = new AtomicLong();
        Throttles throttles = new Throttles(ThrottleSettings.s1().withSpec("query=2/min,streams=1/s"), now::get);
        throttles.admit(OperationClass.QUERY);
        throttles.admit(OperationClass.QUERY);
        HubException refused = assertThrows(HubException.class, () -> throttles.admit(OperationClass.QUERY));
        assertEquals(HubErrorCode.ThrottlingException, refused.errorCode());
        assertTrue(refused.getMessage().contains("query rate"), refused.getMessage());
        throttles.admit(OperationClass.STREAMS); // another class is not affected
        assertEquals(1L, throttles.refusedByClass().get("query"));
        assertEquals(0L, throttles.refusedByClass().get("streams"));
        now.addAndGet(30_000_000_000L);
        throttles.admit(OperationClass.QUERY); // half a minute frees one query at 2/min
    }

    @Test
    void directMethodsAreMeteredInFourKilobyteChunks() {
        AtomicLong now = new AtomicLong();
        Throttles throttles = new Throttles(ThrottleSettings.s1(), now::get); // 160 KB/s: 40 chunks
        for (int call = 0; call < 10; call++) {
            throttles.admit(OperationClass.METHODS, 16 * 1024); // 4 chunks each
        }
        assertThrows(HubException.class, () -> throttles.admit(OperationClass.METHODS, 10));
        assertEquals(1, OperationClass.METHODS.cost(0));
        assertEquals(1, OperationClass.METHODS.cost(4096));
        assertEquals(2, OperationClass.METHODS.cost(4097));
        assertEquals(1, OperationClass.D2C.cost(1_000_000), "other classes count operations");
    }
}
