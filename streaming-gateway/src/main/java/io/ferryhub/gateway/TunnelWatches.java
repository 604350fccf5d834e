package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;
import io.netty.channel.EventLoop;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The tunnel sessions the gateway follows, by session id, so a session resumed over a new stream continues its
 * channels' records. A session whose last stream ended is given {@link #RESUME_WINDOW} to come back; then its
 * channels are recorded as closed.
 */
final class TunnelWatches {
    /** Longer than any proxy's grace period (30 s by default), so a resume is never mistaken for an end. */
    static final Duration RESUME_WINDOW = Duration.ofMinutes(5);

    private final Clock clock;
    private final Map<String, TunnelWatch> sessions = new HashMap<>();
    private final Consumer<ChannelAuditEvent> audit;

    /** @param audit told of every channel event (on an event loop: must not block) */
    TunnelWatches(Clock clock, Consumer<ChannelAuditEvent> audit) {
        this.clock = clock;
        this.audit = audit;
    }

    /** The session a service side's HELLO names: the known one on a resume, else a new record. */
    synchronized TunnelWatch attach(String key, boolean resume, StreamToken token) {
        TunnelWatch watch = resume ? sessions.get(key) : null;
        if (watch == null || watch.ended()) {
            watch = new TunnelWatch(key, token, clock, audit);
            sessions.put(key, watch);
        }
        watch.links++;
        return watch;
    }

    /** The stream carrying {@code watch} ended: the session has the resume window to come back. */
    void detach(TunnelWatch watch, EventLoop timer) {
        synchronized (this) {
            watch.links--;
            if (watch.ended()) {
                sessions.remove(watch.sessionKey(), watch);
                return;
            }
        }
        timer.schedule(() -> {
            synchronized (this) {
                if (watch.links > 0) {
                    return;
                }
                sessions.remove(watch.sessionKey(), watch);
            }
            watch.end("the tunnel session was not resumed within " + RESUME_WINDOW.toMinutes() + " minutes");
        }, RESUME_WINDOW.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Channels the device accepted and that are not closed yet, over every session. */
    synchronized int openChannels() {
        int n = 0;
        for (TunnelWatch w : sessions.values()) {
            n += w.openChannels();
        }
        return n;
    }
}
