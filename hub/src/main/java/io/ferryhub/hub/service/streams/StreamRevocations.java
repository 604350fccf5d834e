package io.ferryhub.hub.service.streams;

import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.hub.service.auth.Credentials;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.IdentityLifecycleListener;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamRequest;
import io.ferryhub.signaling.StreamRevocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    /** Stream requests remembered per identity, for telling which credential each stream's device side used. */
    static final int CREDENTIALS_PER_IDENTITY = 256;

    private final StreamGateway embedded;
    private final RegistryService registry;
    private final Clock clock;
    /** Identity ("device" or "device/module") to stream id to the credential its device side connected with. */
    private final Map<String, LinkedHashMap<String, String>> credentials = new ConcurrentHashMap<>();
    private final String epoch;
    private final ArrayDeque<StreamRevocation> retained = new ArrayDeque<>();
    private final List<Consumer<StreamRevocation>> subscribers = new ArrayList<>();
    private long last;

    /** What a subscriber missed: everything after its number, or a reset when that cannot be told. */
    public record Catchup(String epoch, boolean reset, List<StreamRevocation> missed) {
    }

    public StreamRevocations(StreamGateway embedded, RegistryService registry, Clock clock) {
        this.embedded = embedded;
        this.registry = registry;
        this.clock = clock;
        byte[] id = new byte[8];
        new SecureRandom().nextBytes(id);
        this.epoch = HexFormat.of().formatHex(id);
    }

    public String epoch() {
        return epoch;
    }

    /**
     * A stream request went to the device over {@code link}: its device side will connect with the credential that
     * link proved. The newest {@value #CREDENTIALS_PER_IDENTITY} per identity are kept; a stream forgotten (or from
     * before a restart) is closed by any re-key, as one whose credential is unknown.
     */
    public void requested(DeviceLink link, StreamRequest request) {
        String credential = link.identity().credential();
        if (credential == null) {
            return;
        }
        LinkedHashMap<String, String> streams = credentials.computeIfAbsent(key(request.deviceId(),
                request.moduleId()), k -> new LinkedHashMap<>());
        synchronized (streams) {
            streams.put(request.streamId(), credential);
            if (streams.size() > CREDENTIALS_PER_IDENTITY) {
                streams.remove(streams.keySet().iterator().next());
            }
        }
    }

    @Override
    public void deviceDeleted(String deviceId) {
        publish(StreamRevocation.Reason.DELETED, deviceId, null, null, null, issued(deviceId, null, Set.of()));
        credentials.keySet().removeIf(k -> k.equals(deviceId) || k.startsWith(deviceId + "/"));
    }

    @Override
    public void moduleDeleted(String deviceId, String moduleId) {
        publish(StreamRevocation.Reason.DELETED, deviceId, moduleId, null, null,
                issued(deviceId, moduleId, Set.of()));
        credentials.remove(key(deviceId, moduleId));
    }

    @Override
    public void revoked(String deviceId, String moduleId, Revocation why) {
        if (why == Revocation.DISABLED) {
            publish(StreamRevocation.Reason.DISABLED, deviceId, moduleId, null, null,
                    issued(deviceId, moduleId, Set.of()));
            return;
        }
        Set<String> spare = stillValid(deviceId, moduleId);
        publish(StreamRevocation.Reason.REKEYED, deviceId, moduleId, null, spare, issued(deviceId, moduleId, spare));
    }

    /** The streams requested of the identity (a device's: and its modules') that {@code spare} does not spare. */
    private Set<String> issued(String deviceId, String moduleId, Set<String> spare) {
        Set<String> out = new HashSet<>();
        credentials.forEach((identity, streams) -> {
            if (moduleId == null ? identity.equals(deviceId) || identity.startsWith(deviceId + "/")
                    : identity.equals(key(deviceId, moduleId))) {
                synchronized (streams) {
                    streams.keySet().stream().filter(id -> !spare.contains(id)).forEach(out::add);
                }
            }
        });
        return out;
    }

    /**
     * After a re-key, the streams of the identity (a device's: and its modules') whose device side connected with
     * a credential that still holds: a key left as it was, or swapped into the other slot. IoT Hub cuts every
     * connection on a re-key and so does the hub; a stream, though, was authorised once, by the key it was
     * requested over, and only that key changing revokes it.
     */
    private Set<String> stillValid(String deviceId, String moduleId) {
        Set<String> spare = new HashSet<>();
        credentials.forEach((identity, streams) -> {
            int slash = identity.indexOf('/');
            String d = slash < 0 ? identity : identity.substring(0, slash);
            String m = slash < 0 ? null : identity.substring(slash + 1);
            if (!d.equals(deviceId) || (moduleId != null && !moduleId.equals(m))) {
                return;
            }
            Authentication current = m == null ? registry.findDevice(d).map(Device::authentication).orElse(null)
                    : registry.findModule(d, m).map(Module::authentication).orElse(null);
            synchronized (streams) {
                streams.forEach((streamId, credential) -> {
                    if (Credentials.stillHolds(credential, current)) {
                        spare.add(streamId);
                    }
                });
            }
        });
        return spare;
    }

    private static String key(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }

    /** The identity's stream policy is now {@code policy} (null: none). */
    public void policyChanged(String deviceId, String moduleId, StreamPolicy policy) {
        publish(StreamRevocation.Reason.POLICY_CHANGED, deviceId, moduleId, policy, null, null);
    }

    /**
     * The shared access policy's keys {@code keyIds} stopped holding (regenerated, or the policy deleted): the
     * streams they asked for close, at every gateway, and their tokens are refused.
     */
    public void initiatorKeysRevoked(String policyName, Set<String> keyIds) {
        publish(StreamRevocation.initiatorKeys(0, policyName, keyIds, clock.instant()));
    }

    private void publish(StreamRevocation.Reason reason, String deviceId, String moduleId, StreamPolicy policy,
                         Set<String> spare, Set<String> issued) {
        publish(new StreamRevocation(0, reason, deviceId, moduleId, policy, clock.instant(), spare, issued));
    }

    /** Numbers {@code unnumbered} into the feed and hands it to the embedded gateway and every subscriber. */
    private void publish(StreamRevocation unnumbered) {
        StreamRevocation r;
        List<Consumer<StreamRevocation>> to;
        synchronized (this) {
            r = unnumbered.numbered(++last);
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
