package io.ferryhub.hub.service.sessions;

import io.ferryhub.common.threads.Threads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs {@link PersistentSessions#expire} every {@code interval}. A scan reads every stored session and waits until
 * its deletions are durable: seconds with many sessions, up to the storage timeout on a stalled disk. The hub's
 * shared timer, which also fires direct method and stream timeouts, only starts a scan; the scan runs on a thread
 * of its own, and a tick that finds the previous scan still running is skipped.
 */
public final class SessionExpiry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionExpiry.class);

    private final PersistentSessions sessions;
    private final ExecutorService scanner = Executors.newSingleThreadExecutor(Threads.daemonFactory("hub-session-expiry"));
    private final AtomicBoolean scanning = new AtomicBoolean();
    private final ScheduledFuture<?> ticks;

    public SessionExpiry(PersistentSessions sessions, ScheduledExecutorService timer, Duration interval) {
        this.sessions = sessions;
        ticks = timer.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void tick() {
        if (!scanning.compareAndSet(false, true)) {
            return;
        }
        try {
            scanner.execute(this::scan);
        } catch (RejectedExecutionException closed) {
            scanning.set(false);
        }
    }

    private void scan() {
        try {
            sessions.expire();
        } catch (RuntimeException e) {
            // logged and tried again next time
            log.error("expiring persistent sessions failed", e);
        } finally {
            scanning.set(false);
        }
    }

    @Override
    public void close() {
        ticks.cancel(false);
        scanner.shutdownNow();
    }
}
