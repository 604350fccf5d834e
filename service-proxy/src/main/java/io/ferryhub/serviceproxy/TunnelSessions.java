package io.ferryhub.serviceproxy;

import io.ferryhub.client.tunnel.TunnelDialer;
import io.ferryhub.client.tunnel.TunnelSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The service proxy's one tunnel session to its device, opened on demand and shared by every local connection.
 * When the device proxy or the gateway turns out not to speak the tunnel protocol, that is remembered for a while
 * and connections get a stream each, as with IoT Hub.
 */
final class TunnelSessions {
    private static final Logger log = LoggerFactory.getLogger(TunnelSessions.class);
    /** How long to use one stream per connection after the device or gateway refused a tunnel. */
    private static final Duration RETRY_TUNNEL_AFTER = Duration.ofMinutes(1);

    private final TunnelDialer dialer;
    private CompletableFuture<TunnelSession> current;
    private Instant unsupportedUntil = Instant.MIN;

    TunnelSessions(TunnelDialer dialer) {
        this.dialer = dialer;
    }

    /** The open session (possibly resuming), or a new one; fails with TunnelUnsupported to fall back. */
    synchronized CompletableFuture<TunnelSession> session() {
        if (current != null && (!current.isDone()
                || (!current.isCompletedExceptionally() && !current.join().isEnded()))) {
            return current;
        }
        if (Instant.now().isBefore(unsupportedUntil)) {
            return CompletableFuture.failedFuture(new TunnelDialer.TunnelUnsupported("tunnel refused recently"));
        }
        CompletableFuture<TunnelSession> opening = dialer.open();
        current = opening;
        opening.whenComplete((session, failure) -> {
            if (failure != null && unwrap(failure) instanceof TunnelDialer.TunnelUnsupported) {
                log.info("no tunnel session ({}); one stream per connection for {} s", unwrap(failure).getMessage(),
                        RETRY_TUNNEL_AFTER.toSeconds());
                synchronized (this) {
                    unsupportedUntil = Instant.now().plus(RETRY_TUNNEL_AFTER);
                }
            }
        });
        return opening;
    }

    synchronized int channelCount() {
        return current != null && current.isDone() && !current.isCompletedExceptionally()
                ? current.join().channelCount() : 0;
    }

    /** Ends the session, waiting (a little) until the device was told. */
    void close() {
        CompletableFuture<TunnelSession> last;
        synchronized (this) {
            last = current;
        }
        if (last == null || !last.isDone() || last.isCompletedExceptionally()) {
            return;
        }
        try {
            last.join().end("service proxy stopping").get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("the tunnel session did not close in time", e);
        }
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
