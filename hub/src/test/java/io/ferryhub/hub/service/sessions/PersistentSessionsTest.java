package io.ferryhub.hub.service.sessions;

import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import io.ferryhub.hub.storage.sessions.KeyValueSessionStore;
import io.ferryhub.hub.storage.sessions.SessionStore;
import io.ferryhub.hub.storage.sessions.SessionStore.StoredSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;

/**
 * Persistent sessions' lifetime on the embedded store: expiry after 30 days unused (on a clock the test moves),
 * sessions of connected identities kept fresh, sessions of identities gone or created again never resumed.
 */
class PersistentSessionsTest {
    private static final Duration EXPIRY = Duration.ofDays(30);
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final Map<String, Integer> C2D = Map.of("devices/%s/messages/devicebound/#", 1);

    @TempDir
    Path dataDir;
    private final AtomicReference<Instant> now = new AtomicReference<>(START);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private JournalStore journal;
    private RegistryService registry;
    private SessionStore store;
    private PersistentSessions sessions;

    @BeforeEach
    void open() throws Exception {
        journal = JournalStore.open(dataDir.resolve("registry"));
        registry = new RegistryService(new KeyValueRegistryStore(journal), new DeviceConnections(timer),
                new ConnectionStates());
        store = new KeyValueSessionStore(journal);
        sessions = new PersistentSessions(store, registry, now::get, EXPIRY);
    }

    @AfterEach
    void close() {
        journal.close();
        timer.shutdownNow();
    }

    private AuthenticatedDevice register(String deviceId) {
        Device device = registry.putDevice(deviceId, new Device(deviceId, null, null, null, null, null, null, false,
                null, null), null);
        return new AuthenticatedDevice(deviceId, null, "sas", device.generationId(), Long.MAX_VALUE);
    }

    /** Connects persistently, subscribes to C2D and disconnects, at the clock's time. */
    private void useSession(AuthenticatedDevice device) throws Exception {
        PersistentSessions.Session session = sessions.open(device, false).get(30, TimeUnit.SECONDS);
        session.save(C2D).get(30, TimeUnit.SECONDS);
        session.close();
    }

    private PersistentSessions.Session resume(AuthenticatedDevice device) throws Exception {
        return sessions.open(device, false).get(30, TimeUnit.SECONDS);
    }

    @Test
    void aSessionUnusedForTheExpiryIsRemovedAndOneUsedWithinItIsKept() throws Exception {
        AuthenticatedDevice idle = register("idle");
        AuthenticatedDevice recent = register("recent");
        useSession(idle);
        now.set(START.plus(Duration.ofDays(10)));
        useSession(recent);

        now.set(START.plus(EXPIRY).plusSeconds(1));
        assertEquals(1, sessions.expire());
        assertEquals(List.of("recent"), storedIds());
        assertFalse(resume(idle).present(), "an expired session is gone");
        PersistentSessions.Session kept = resume(recent);
        assertTrue(kept.present());
        assertEquals(C2D, kept.subscriptions());
    }

    @Test
    void aConnectedSessionIsNeverExpiredAndIsKeptFreshForAfterACrash() throws Exception {
        AuthenticatedDevice device = register("always-on");
        PersistentSessions.Session connected = sessions.open(device, false).get(30, TimeUnit.SECONDS);
        connected.save(C2D).get(30, TimeUnit.SECONDS);

        Instant later = START.plus(EXPIRY).plus(Duration.ofDays(5));
        now.set(later);
        assertEquals(0, sessions.expire(), "a connected identity's session stays");
        Await.until("the connected session was refreshed", Duration.ofSeconds(60), () -> store.get("always-on", null)
                .map(StoredSession::lastUsedMillis).orElse(0L) == later.toEpochMilli());

        // the hub dies without the disconnect being seen; 25 days later its successor still has the session
        PersistentSessions afterCrash = new PersistentSessions(store, registry, now::get, EXPIRY);
        now.set(later.plus(Duration.ofDays(25)));
        assertEquals(0, afterCrash.expire());
        PersistentSessions.Session resumed = afterCrash.open(device, false).get(30, TimeUnit.SECONDS);
        assertTrue(resumed.present());
        assertEquals(C2D, resumed.subscriptions());
    }

    @Test
    void sessionsOfIdentitiesGoneOrCreatedAgainAreNeitherResumedNorKept() throws Exception {
        AuthenticatedDevice device = register("reborn");
        // as if a deletion had not reached storage: a session of an identity no longer registered, and one made
        // by an earlier identity of a registered id
        store.put("ghost", null, new StoredSession("gen-of-ghost", C2D, START.toEpochMilli()))
                .get(30, TimeUnit.SECONDS);
        store.put("reborn", null, new StoredSession("an-earlier-generation", C2D, START.toEpochMilli()))
                .get(30, TimeUnit.SECONDS);

        assertEquals(2, sessions.expire());
        assertEquals(List.of(), storedIds());

        store.put("reborn", null, new StoredSession("an-earlier-generation", C2D, START.toEpochMilli()))
                .get(30, TimeUnit.SECONDS);
        PersistentSessions.Session fresh = resume(device);
        assertFalse(fresh.present(), "a new identity does not inherit an old one's session");
        assertEquals(Map.of(), fresh.subscriptions());
        assertEquals(device.generationId(), store.get("reborn", null).orElseThrow().generationId());
    }

    @Test
    void aNewerConnectionOwnsTheSessionSoTheOldOnesLateWritesAreDropped() throws Exception {
        AuthenticatedDevice device = register("taken-over");
        PersistentSessions.Session old = sessions.open(device, false).get(30, TimeUnit.SECONDS);
        old.save(C2D).get(30, TimeUnit.SECONDS);
        PersistentSessions.Session clean = sessions.open(device, true).get(30, TimeUnit.SECONDS);
        assertFalse(clean.present());
        assertEquals(List.of(), storedIds());

        // the replaced connection's SUBSCRIBE still in flight and its disconnect
        old.save(Map.of("$iothub/methods/POST/#", 1)).get(30, TimeUnit.SECONDS);
        old.close();
        clean.close();
        assertEquals(List.of(), storedIds());
        assertFalse(resume(device).present());
    }

    private List<String> storedIds() {
        return store.scan(null, null, 100).stream().map(SessionStore.Entry::deviceId).toList();
    }
}
