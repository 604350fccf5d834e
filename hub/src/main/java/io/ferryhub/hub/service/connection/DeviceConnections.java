package io.ferryhub.hub.service.connection;

import io.ferryhub.common.error.HubErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Which devices and modules are connected right now, over any transport. One link per identity: a new connection
 * replaces the old one, which is closed with {@link HubErrorCode#LinkCreationConflict}, as IoT Hub does.
 * Services wait here for a device to come online (stream and method connect timeouts).
 */
public final class DeviceConnections {
    private static final Logger log = LoggerFactory.getLogger(DeviceConnections.class);

    private final Map<String, DeviceLink> links = new ConcurrentHashMap<>();
    private final Map<String, List<Waiter>> waiters = new ConcurrentHashMap<>();
    private final List<ConnectionListener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer;

    /** Told when identities connect and disconnect; the registry keeps connection state from these calls. */
    public interface ConnectionListener {
        void connected(DeviceLink link);

        void disconnected(DeviceLink link);

        /** The device sent or acknowledged a message on this link. */
        default void activity(DeviceLink link) {
        }
    }

    private record Waiter(Predicate<DeviceLink> ready, CompletableFuture<DeviceLink> future) {
    }

    public DeviceConnections(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    public void addListener(ConnectionListener listener) {
        listeners.add(listener);
    }

    static String key(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }

    /** Registers a newly authenticated link; the identity's previous link, if any, is closed. */
    public void register(DeviceLink link) {
        String key = key(link.identity().deviceId(), link.identity().moduleId());
        DeviceLink previous = links.put(key, link);
        if (previous != null && previous != link) {
            log.info("{} connected again over {}; closing its previous {} connection", key, link.transport(),
                    previous.transport());
            previous.close(HubErrorCode.LinkCreationConflict);
            listeners.forEach(l -> l.disconnected(previous));
        }
        listeners.forEach(l -> l.connected(link));
        changed(key);
    }

    /** Removes a link that closed; a no-op if a newer link already replaced it. */
    public void unregister(DeviceLink link) {
        String key = key(link.identity().deviceId(), link.identity().moduleId());
        if (links.remove(key, link)) {
            listeners.forEach(l -> l.disconnected(link));
        }
    }

    /** Transports report device activity here (at most about once a second per link: it is for lastActivityTime). */
    public void activity(DeviceLink link) {
        listeners.forEach(l -> l.activity(link));
    }

    /**
     * Transports call this when a link's capabilities change (e.g. it subscribed to stream requests), so that
     * services waiting for such a link wake up.
     */
    public void changed(DeviceLink link) {
        changed(key(link.identity().deviceId(), link.identity().moduleId()));
    }

    private void changed(String key) {
        List<Waiter> waiting = waiters.get(key);
        DeviceLink link = links.get(key);
        if (waiting == null || link == null) {
            return;
        }
        for (Waiter w : new ArrayList<>(waiting)) {
            if (w.ready().test(link) && w.future().complete(link)) {
                waiting.remove(w);
            }
        }
    }

    public Optional<DeviceLink> find(String deviceId, String moduleId) {
        return Optional.ofNullable(links.get(key(deviceId, moduleId)));
    }

    public boolean isConnected(String deviceId, String moduleId) {
        return links.containsKey(key(deviceId, moduleId));
    }

    /**
     * Whether a call waits for a link of this identity to appear (a direct method or stream request with a connect
     * timeout): what a test waits for before it lets the device connect.
     */
    public boolean isAwaited(String deviceId, String moduleId) {
        List<Waiter> list = waiters.get(key(deviceId, moduleId));
        return list != null && list.stream().anyMatch(w -> !w.future().isDone());
    }

    public int connectedCount() {
        return links.size();
    }

    /** Connected identities by transport ({@code mqtt}, {@code amqp-ws}...), for metrics. */
    public Map<String, Integer> connectedByTransport() {
        Map<String, Integer> counts = new TreeMap<>();
        for (DeviceLink link : links.values()) {
            counts.merge(link.transport(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * A link of this identity that satisfies {@code ready}, now or once one appears within {@code timeoutMillis}
     * (0 = don't wait). Completes exceptionally-free: an empty result means none came in time.
     */
    public CompletableFuture<Optional<DeviceLink>> awaitLink(String deviceId, String moduleId,
                                                             Predicate<DeviceLink> ready, long timeoutMillis) {
        String key = key(deviceId, moduleId);
        DeviceLink now = links.get(key);
        if (now != null && ready.test(now)) {
            return CompletableFuture.completedFuture(Optional.of(now));
        }
        if (timeoutMillis <= 0) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        Waiter waiter = new Waiter(ready, new CompletableFuture<>());
        List<Waiter> list = waiters.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
        list.add(waiter);
        changed(key); // closes the race with a link registered between the check above and the add
        timer.schedule(() -> {
            if (waiter.future().complete(null)) {
                list.remove(waiter);
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        return waiter.future().thenApply(Optional::ofNullable);
    }

    /** Cuts off every link of a device (and its modules): disable, delete and re-key take effect at once. */
    public void disconnectDevice(String deviceId, HubErrorCode reason) {
        for (DeviceLink link : List.copyOf(links.values())) {
            if (link.identity().deviceId().equals(deviceId)) {
                log.info("cutting off {} ({}): {}", link.identity().clientId(), link.transport(), reason);
                link.close(reason);
            }
        }
    }

    /** Cuts off one module's link. */
    public void disconnectModule(String deviceId, String moduleId, HubErrorCode reason) {
        find(deviceId, moduleId).ifPresent(link -> {
            log.info("cutting off {} ({}): {}", link.identity().clientId(), link.transport(), reason);
            link.close(reason);
        });
    }
}
