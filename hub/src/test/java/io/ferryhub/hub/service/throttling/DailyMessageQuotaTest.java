package io.ferryhub.hub.service.throttling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.storage.embedded.JournalStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DailyMessageQuotaTest {
    /** A clock the test moves. */
    private static final class MovableClock extends Clock {
        final AtomicReference<Instant> now;

        MovableClock(Instant start) {
            now = new AtomicReference<>(start);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

    @Test
    void messagesAreCountedPerStarted4KbUntilTheQuotaThenRefusedUntilTheUtcDayRolls() {
        MovableClock clock = new MovableClock(Instant.parse("2026-03-01T23:59:00Z"));
        DailyMessageQuota quota = new DailyMessageQuota(5, clock, null);
        quota.charge(10);          // 1
        quota.charge(4096);        // 1
        quota.charge(4097);        // 2
        assertEquals(4, quota.used());
        HubException over = assertThrows(HubException.class, () -> quota.charge(6000)); // 2 would make 6
        assertEquals(HubErrorCode.IotHubQuotaExceeded, over.errorCode());
        assertEquals(4, quota.used(), "a refused message is not counted");
        quota.charge(1);
        assertThrows(HubException.class, () -> quota.charge(1));

        clock.now.set(Instant.parse("2026-03-02T00:00:00Z"));
        quota.charge(1);
        assertEquals(1, quota.used(), "a new UTC day starts from zero");
    }

    @Test
    void theDaysCountSurvivesARestartButNotTheDay(@TempDir Path dir) throws Exception {
        MovableClock clock = new MovableClock(Instant.parse("2026-03-01T10:00:00Z"));
        try (JournalStore store = JournalStore.open(dir)) {
            DailyMessageQuota quota = new DailyMessageQuota(10, clock, store);
            for (int i = 0; i < 7; i++) {
                quota.charge(100);
            }
            quota.save().join();
        }
        try (JournalStore store = JournalStore.open(dir)) {
            DailyMessageQuota reopened = new DailyMessageQuota(10, clock, store);
            assertEquals(7, reopened.used());
            clock.now.set(Instant.parse("2026-03-02T10:00:00Z"));
            assertEquals(0, new DailyMessageQuota(10, clock, store).used(), "yesterday's count is not today's");
        }
    }

    @Test
    void noLimitCountsNothing() {
        DailyMessageQuota none = DailyMessageQuota.unlimited();
        for (int i = 0; i < 1000; i++) {
            none.charge(1_000_000);
        }
        assertEquals(0, none.used());
    }
}
