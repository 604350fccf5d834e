package io.ferryhub.hub.service.sessions;

import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.IdentityLifecycleListener;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.storage.sessions.SessionStore;
import io.ferryhub.hub.storage.sessions.SessionStore.StoredSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * IoT Hub's persistent sessions (MQTT {@code cleanSession=false}): a device's subscriptions outlive its connection
 * and a hub restart, so a device that reconnects gets them back without subscribing and receives what was queued
 * for it meanwhile. A clean-session connect ends the stored session.
 *
 * <p>A session lives as long as its identity (deleting a device deletes its and its modules' sessions; a session is
 * only resumed by the identity generation that made it) and no longer than {@link #expiry} after it was last used:
 * {@link #expire} removes the others.
 *
 * <p>Of the connections of one identity only the newest owns the session: when a device reconnects before its old
 * connection is gone, the old one's late writes (a SUBSCRIBE still in flight, its disconnect) must not overwrite
 * what the new one started with. Ownership is checked and the write queued under one map lock, so writes of one
 * identity reach the store in the order the connections made them.
 */
public final class PersistentSessions implements IdentityLifecycleListener {
    private static final Logger log = LoggerFactory.getLogger(PersistentSessions.class);
    private static final int SCAN_BATCH = 1000;

    private final SessionStore store;
    private final RegistryService registry;
    private final InstantSource clock;
    private final Duration expiry;
    /** The connection that owns each identity's session, by client id ({@code deviceId[/moduleId]}). */
    private final Map<String, Session> owners = new ConcurrentHashMap<>();

    /** @param expiry how long a session not used by any connection is kept */
    public PersistentSessions(SessionStore store, RegistryService registry, InstantSource clock, Duration expiry) {
        if (expiry.isZero() || expiry.isNegative()) {
            throw new IllegalArgumentException("the session expiry must be positive, not " + expiry);
        }
        this.store = store;
        this.registry = registry;
        this.clock = clock;
        this.expiry = expiry;
        registry.addLifecycleListener(this);
    }

    /** How long a session no connection uses is kept. */
    public Duration expiry() {
        return expiry;
    }

    /**
     * Starts a connection's session once its identity is authenticated: resumes the stored one or, with
     * {@code cleanSession}, ends it. The future completes once that is durable, so a CONNACK sent then tells the
     * truth after a crash. May read storage: call it off an event loop.
     */
    public CompletableFuture<Session> open(AuthenticatedDevice identity, boolean cleanSession) {
        Session session = new Session(identity, !cleanSession);
        CompletableFuture<Void>[] write = newWriteSlot();
        owners.compute(identity.clientId(), (clientId, previous) -> {
            Optional<StoredSession> stored = store.get(identity.deviceId(), identity.moduleId());
            if (cleanSession) {
                write[0] = stored.isPresent() ? store.delete(identity.deviceId(), identity.moduleId())
                        : CompletableFuture.completedFuture(null);
                return session;
            }
            Optional<StoredSession> own = stored.filter(s -> s.generationId().equals(identity.generationId()));
            session.present = own.isPresent();
            session.subscriptions = own.map(StoredSession::subscriptions).orElse(Map.of());
            write[0] = store.put(identity.deviceId(), identity.moduleId(), session.record());
            return session;
        });
        return write[0].whenComplete((done, failure) -> {
            if (failure != null) {
                owners.remove(identity.clientId(), session); // the connection is refused: it owns nothing
            }
        }).thenApply(done -> session);
    }

    /** Deletes the device's session and its modules' durably; they never come back for a new device of that id. */
    @Override
    public void deviceDeleted(String deviceId) {
        owners.keySet().removeIf(clientId -> clientId.equals(deviceId) || clientId.startsWith(deviceId + "/"));
        forget(store.deleteDevice(deviceId), deviceId);
    }

    @Override
    public void moduleDeleted(String deviceId, String moduleId) {
        owners.remove(deviceId + "/" + moduleId);
        forget(store.delete(deviceId, moduleId), deviceId + "/" + moduleId);
    }

    private static void forget(CompletableFuture<Void> deletion, String clientId) {
        try {
            // Should this fail, the generation check keeps the session from a new identity of that id and
            // expire() removes it later.
            StorageWrites.await(deletion, "the persistent session's deletion");
        } catch (HubException e) {
            log.warn("the persistent session of {} could not be deleted: {}", clientId, e.getMessage());
        }
    }

    /**
     * Removes the sessions nobody connected with for {@link #expiry} and those whose identity is gone or was
     * created again; keeps the sessions of connected identities fresh, so a restart does not find them stale.
     *
     * @return how many sessions were removed, durably by then
     */
    public int expire() {
        long now = clock.millis();
        long expiredBefore = now - expiry.toMillis();
        long refreshBefore = now - expiry.toMillis() / 2;
        List<CompletableFuture<Void>> deletions = new ArrayList<>();
        String afterDevice = null;
        String afterModule = null;
        List<SessionStore.Entry> batch;
        do {
            batch = store.scan(afterDevice, afterModule, SCAN_BATCH);
            for (SessionStore.Entry entry : batch) {
                String clientId = clientId(entry.deviceId(), entry.moduleId());
                owners.compute(clientId, (id, owner) -> {
                    // read again under the owner's lock: a connection may have come and gone since the scan
                    StoredSession stored = store.get(entry.deviceId(), entry.moduleId()).orElse(null);
                    if (stored == null) {
                        return owner;
                    }
                    boolean identityGone = !generation(entry.deviceId(), entry.moduleId())
                            .map(stored.generationId()::equals).orElse(false);
                    if (owner == null && (identityGone || stored.lastUsedMillis() < expiredBefore)) {
                        deletions.add(store.delete(entry.deviceId(), entry.moduleId()));
                    } else if (owner != null && owner.persistent && stored.lastUsedMillis() < refreshBefore) {
                        owner.touch(now);
                    }
                    return owner;
                });
            }
            if (!batch.isEmpty()) {
                afterDevice = batch.get(batch.size() - 1).deviceId();
                afterModule = batch.get(batch.size() - 1).moduleId();
            }
        } while (batch.size() == SCAN_BATCH);
        if (deletions.isEmpty()) {
            return 0;
        }
        StorageWrites.await(CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)),
                "the expired persistent sessions' deletion");
        log.info("{} persistent session(s) removed: unused for {} or their identity is gone", deletions.size(),
                expiry);
        return deletions.size();
    }

    private static void logIfFailed(CompletableFuture<Void> write, String clientId) {
        write.whenComplete((done, failure) -> {
            if (failure != null) {
                log.warn("the persistent session of {} was not stored: {}", clientId, failure.toString());
            }
        });
    }

    private Optional<String> generation(String deviceId, String moduleId) {
        return moduleId == null ? registry.findDevice(deviceId).map(Device::generationId)
                : registry.findModule(deviceId, moduleId).map(Module::generationId);
    }

    private static String clientId(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }

    @SuppressWarnings("unchecked")
    private static CompletableFuture<Void>[] newWriteSlot() {
        return new CompletableFuture[1];
    }

    /** One connection's view of its identity's session. */
    public final class Session {
        private final AuthenticatedDevice identity;
        private final boolean persistent;
        private volatile boolean present;
        private volatile Map<String, Integer> subscriptions = Map.of();

        private Session(AuthenticatedDevice identity, boolean persistent) {
            this.identity = identity;
            this.persistent = persistent;
        }

        /** Whether a stored session was resumed (MQTT's CONNACK session present). */
        public boolean present() {
            return present;
        }

        /** The subscriptions the resumed session had (empty for a new or clean one): topic filter to granted QoS. */
        public Map<String, Integer> subscriptions() {
            return subscriptions;
        }

        /**
         * Stores the connection's current subscriptions; the future completes once they are durable (at once for a
         * clean session, or when a newer connection of the identity has taken the session over). Only queues the
         * write ({@link io.ferryhub.hub.storage.KeyValueStore} commits are asynchronous), so it may be called on an
         * event loop; calls are stored in the order they are made.
         */
        public CompletableFuture<Void> save(Map<String, Integer> current) {
            if (!persistent) {
                return CompletableFuture.completedFuture(null);
            }
            Map<String, Integer> copy = Map.copyOf(current);
            CompletableFuture<Void>[] write = newWriteSlot();
            write[0] = CompletableFuture.completedFuture(null);
            owners.computeIfPresent(identity.clientId(), (clientId, owner) -> {
                if (owner == this) {
                    subscriptions = copy;
                    write[0] = store.put(identity.deviceId(), identity.moduleId(), record());
                }
                return owner;
            });
            return write[0];
        }

        /** The connection is gone: the session was last used now. Never waited for; a lost write only ages it. */
        public void close() {
            owners.computeIfPresent(identity.clientId(), (clientId, owner) -> {
                if (owner != this) {
                    return owner;
                }
                if (persistent) {
                    touch(clock.millis());
                }
                return null;
            });
        }

        private void touch(long nowMillis) {
            logIfFailed(store.put(identity.deviceId(), identity.moduleId(),
                    new StoredSession(identity.generationId(), subscriptions, nowMillis)), identity.clientId());
        }

        private StoredSession record() {
            return new StoredSession(identity.generationId(), subscriptions, clock.millis());
        }
    }
}
