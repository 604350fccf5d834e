package io.ferryhub.hub.service.throttling;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class RateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void aBurstIsAdmittedThenTheRateApplies() {
        RateLimiter limiter = new RateLimiter(new Rate(10, Duration.ofSeconds(1), 5), now::get);
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.tryAcquire(), "burst operation " + i);
        }
        assertFalse(limiter.tryAcquire(), "past the burst with no time passed");
        advance(Duration.ofMillis(99));
        assertFalse(limiter.tryAcquire(), "a little less than one interval later");
        advance(Duration.ofMillis(1));
        assertTrue(limiter.tryAcquire(), "one interval (100 ms at 10/s) frees one operation");
        assertFalse(limiter.tryAcquire());
    }

    @Test
    void aQuietSpellRefillsTheBurstButNoMore() {
        RateLimiter limiter = new RateLimiter(new Rate(10, Duration.ofSeconds(1), 3), now::get);
        advance(Duration.ofHours(1));
        int admitted = 0;
        while (limiter.tryAcquire()) {
            admitted++;
        }
        assertEquals(3, admitted, "an hour of quiet gives the burst, not an hour's worth");
    }

    @Test
    void sustainedLoadIsHeldToTheRate() {
        RateLimiter limiter = new RateLimiter(Rate.perMinute(100), now::get);
        int admitted = 0;
        // ten minutes offered at 10 per second, in steps of 100 ms
        for (int step = 0; step < 6000; step++) {
            if (limiter.tryAcquire()) {
                admitted++;
            }
            advance(Duration.ofMillis(100));
        }
        // the burst of 100 plus 100 a minute for ten minutes
        assertTrue(admitted >= 1099 && admitted <= 1101, "admitted " + admitted);
    }

    @Test
    void aCostTakesThatManyUnits() {
        RateLimiter limiter = new RateLimiter(new Rate(40, Duration.ofSeconds(1), 40), now::get);
        assertTrue(limiter.tryAcquire(32));
        assertFalse(limiter.tryAcquire(9), "32 + 9 is over the 40 the burst holds");
        assertTrue(limiter.tryAcquire(8));
        assertFalse(limiter.tryAcquire(1));
    }

    @Test
    void concurrentCallersNeverGetMoreThanTheBurst() throws Exception {
        RateLimiter limiter = new RateLimiter(new Rate(1, Duration.ofHours(1), 1000), now::get);
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Future<?>[] tasks = new Future<?>[4];
            for (int t = 0; t < tasks.length; t++) {
                tasks[t] = pool.submit(() -> {
                    for (int i = 0; i < 5000; i++) {
                        if (limiter.tryAcquire()) {
                            admitted.incrementAndGet();
                        }
                    }
                });
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1000, admitted.get());
    }
}
