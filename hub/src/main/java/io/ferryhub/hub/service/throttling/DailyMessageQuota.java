package io.ferryhub.hub.service.throttling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.storage.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * IoT Hub's daily message quota: S1 allows 400,000 messages per unit per UTC day, a message counted per started
 * 4 KB, device-to-cloud and cloud-to-device alike. Once the day's quota is used up, both are refused with
 * {@code 403002 IotHubQuotaExceeded} until the UTC day rolls over.
 *
 * <p>The count lives in memory and is saved to the store by {@link #save} (the hub calls it every few seconds and
 * on stop), so a restart keeps the day's count; after a crash, at most the messages since the last save are not
 * counted, which errs on the device's side.
 */
public final class DailyMessageQuota {
    private static final Logger log = LoggerFactory.getLogger(DailyMessageQuota.class);
    public static final long S1_MESSAGES_PER_UNIT = 400_000;
    public static final int METER_BYTES = 4096;
    static final String NAMESPACE = "quota";
    static final String KEY = "messages";

    /** @param endMillis the first millisecond of the next UTC day: one comparison per message finds a new day */
    private record Day(LocalDate date, long endMillis, AtomicLong used) {
        static Day of(LocalDate date, long used) {
            return new Day(date, date.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli(),
                    new AtomicLong(used));
        }
    }

    private final long limit;
    private final Clock clock;
    private final KeyValueStore store;
    private final AtomicReference<Day> day;
    private volatile long saved = -1;

    /**
     * @param limit messages a UTC day; 0 or less for no quota
     * @param store where the count is saved, or null to keep it in memory only
     */
    public DailyMessageQuota(long limit, Clock clock, KeyValueStore store) {
        this.limit = limit;
        this.clock = clock;
        this.store = store;
        this.day = new AtomicReference<>(load(today()));
    }

    public static DailyMessageQuota unlimited() {
        return new DailyMessageQuota(0, Clock.systemUTC(), null);
    }

    public long limit() {
        return limit;
    }

    /** The messages counted today. */
    public long used() {
        return current().used().get();
    }

    /**
     * Counts a message of {@code bytes} against today's quota.
     *
     * @throws HubException {@code IotHubQuotaExceeded} when it does not fit in what is left today (nothing counted)
     */
    public void charge(long bytes) {
        if (limit <= 0) {
            return;
        }
        long cost = Math.max(1, (bytes + METER_BYTES - 1) / METER_BYTES);
        AtomicLong used = current().used();
        long before;
        do {
            before = used.get();
            if (before + cost > limit) {
                throw new HubException(HubErrorCode.IotHubQuotaExceeded, "The hub's daily message quota (" + limit
                        + " messages) is used up; it is renewed at 00:00 UTC");
            }
        } while (!used.compareAndSet(before, before + cost));
    }

    private Day current() {
        Day d = day.get();
        if (clock.millis() < d.endMillis()) {
            return d;
        }
        LocalDate today = today();
        while (!d.date().equals(today)) {
            Day next = Day.of(today, 0);
            if (day.compareAndSet(d, next)) {
                return next;
            }
            d = day.get();
        }
        return d;
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }

    /**
     * Saves today's count if it changed since the last save. Never blocks: the future completes once the count is
     * durable (or could not be stored, which is logged: the count stays in memory).
     */
    public CompletableFuture<Void> save() {
        if (store == null || limit <= 0) {
            return CompletableFuture.completedFuture(null);
        }
        Day d = current();
        long used = d.used().get();
        if (used == saved) {
            return CompletableFuture.completedFuture(null);
        }
        saved = used;
        byte[] value = (d.date() + " " + used).getBytes(StandardCharsets.US_ASCII);
        return store.commit(List.of(KeyValueStore.Mutation.put(NAMESPACE, KEY, value))).handle((v, e) -> {
            if (e != null) {
                log.warn("the daily message count could not be saved: {}", e.toString());
            }
            return null;
        });
    }

    private Day load(LocalDate today) {
        if (store == null) {
            return Day.of(today, 0);
        }
        long used = store.get(NAMESPACE, KEY).map(bytes -> new String(bytes, StandardCharsets.US_ASCII))
                .filter(text -> text.startsWith(today + " "))
                .map(text -> Long.parseLong(text.substring(text.indexOf(' ') + 1).trim()))
                .orElse(0L);
        saved = used;
        return Day.of(today, used);
    }
}
