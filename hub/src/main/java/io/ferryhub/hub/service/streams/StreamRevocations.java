package io.ferryhub.hub.service.streams;

import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.hub.service.registry.IdentityLifecycleListener;
import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamRevocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * The registry's revocations and stream policy changes, as open streams must follow them: handed at once to the
 * embedded gateway, and numbered into a feed that stand-alone gateways follow (pushed to them as they happen; a
 * gateway that reconnects gets what it missed by its last number). The feed is kept in memory: its epoch (random
 * per hub start) tells a gateway that numbers from before a restart mean nothing, so it checks its open streams
 * instead.
 */
public final class StreamRevocations implements IdentityLifecycleListener {
    private static final Logger log = LoggerFactory.getLogger(StreamRevocations.class);
    /** Revocations kept for gateways that reconnect; one further behind re-checks its streams. */
    static final int RETAINED = 10_000;

    private final StreamGateway embedded;
    private final Clock clock;
    private final String epoch;
    private final ArrayDeque<StreamRevocation> retained = new ArrayDeque<>();
    private final List<Consumer<StreamRevocation>> subscribers = new ArrayList<>();
    private long last;

    /** What a subscriber missed: everything after its number, or a reset when that cannot be told. */
    public record Catchup(String epoch, boolean reset, List<StreamRevocation> missed) {
    }

    public StreamRevocations(StreamGateway embedded, Clock clock) {
        this.embedded = embedded;
        this.clock = clock;
        byte[] id = new byte[8];
        new SecureRandom().nextBytes(id);
        this.epoch = HexFormat.of().formatHex(id);
    }

    public String epoch() {
        return epoch;
    }

    @Override
    public void deviceDeleted(String deviceId) {
        publish(StreamRevocation.Reason.DELETED, deviceId, null, null);
    }

    @Override
    public void moduleDeleted(String deviceId, String moduleId) {
        publish(StreamRevocation.Reason.DELETED, deviceId, moduleId, null);
    }

    @Override
    public void revoked(String deviceId, String moduleId, Revocation why) {
        publish(why == Revocation.DISABLED ? StreamRevocation.Reason.DISABLED : StreamRevocation.Reason.REKEYED,
                deviceId, moduleId, null);
    }

    /** The identity's stream policy is now {@code policy} (null: none). */
    public void policyChanged(String deviceId, String moduleId, StreamPolicy policy) {
        publish(StreamRevocation.Reason.POLICY_CHANGED, deviceId, moduleId, policy);
    }

    private void publish(StreamRevocation.Reason reason, String deviceId, String moduleId, StreamPolicy policy) {
        StreamRevocation r;
        List<Consumer<StreamRevocation>> to;
        synchronized (this) {
            r = new StreamRevocation(++last, reason, deviceId, moduleId, policy, clock.instant());
            retained.addLast(r);
            if (retained.size() > RETAINED) {
                retained.removeFirst();
            }
            to = List.copyOf(subscribers);
        }
        embedded.revoke(r);
        // outside the lock, in number order per subscriber all the same: each one's writes are queued in order
        for (Consumer<StreamRevocation> s : to) {
            try {
                s.accept(r);
            } catch (RuntimeException e) {
                log.warn("revocation feed subscriber failed", e);
            }
        }
        log.debug("revocation {} published to {} feed subscriber(s)", r.sequence(), to.size());
    }

    /**
     * Subscribes {@code live} to revocations after those the caller saw ({@code after} in epoch {@code epoch}):
     * returns what it missed, which it must handle before anything {@code live} receives.
     */
    public synchronized Catchup subscribe(String sinceEpoch, long after, Consumer<StreamRevocation> live) {
        subscribers.add(live);
        long oldest = retained.isEmpty() ? last + 1 : retained.peekFirst().sequence();
        if (!epoch.equals(sinceEpoch) || after > last || after < oldest - 1) {
            // a restart of the hub, or a gateway too far behind: it cannot know what it missed
            return new Catchup(epoch, sinceEpoch != null || after > 0, List.of());
        }
        List<StreamRevocation> missed = new ArrayList<>();
        for (StreamRevocation r : retained) {
            if (r.sequence() > after) {
                missed.add(r);
            }
        }
        return new Catchup(epoch, false, missed);
    }

    public synchronized void unsubscribe(Consumer<StreamRevocation> live) {
        subscribers.remove(live);
    }
}
