package io.ferryhub.hub.service.sessions;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.methods.MethodCall;
import io.ferryhub.hub.service.methods.MethodRequest;
import io.ferryhub.hub.service.methods.MethodRequestSink;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import io.ferryhub.hub.storage.sessions.KeyValueSessionStore;
import io.ferryhub.hub.storage.sessions.SessionStore;
import io.ferryhub.signaling.StreamRequestSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The persistent-session expiry scan waits for its deletions to be durable. The hub's shared timer also fires
 * direct method timeouts; a scan held by storage must not delay them.
 */
class SessionExpiryTest {
    private static final Duration EXPIRY = Duration.ofDays(30);
    /** The storage answers after this, so that a timer held by the scan shows how late it fired. */
    private static final long HOLD_MILLIS = 15_000;

    @TempDir
    Path dataDir;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            r -> new Thread(r, "hub-timer"));
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    private final CountDownLatch storageAnswers = new CountDownLatch(1);
    private JournalStore journal;

    @AfterEach
    void close() {
        storageAnswers.countDown();
        timer.shutdownNow();
        if (journal != null) {
            journal.close();
        }
    }

    @Test
    void aScanWaitingForStorageDoesNotDelayAMethodTimeout() throws Exception {
        journal = JournalStore.open(dataDir.resolve("registry"));
        DeviceConnections connections = new DeviceConnections(timer);
        RegistryService registry = new RegistryService(new KeyValueRegistryStore(journal), connections,
                new ConnectionStates());
        HeldDeletions store = new HeldDeletions(new KeyValueSessionStore(journal));
        PersistentSessions sessions = new PersistentSessions(store, registry, now::get, EXPIRY);
        AuthenticatedDevice device = register(registry, "slow-disk-dev");
        PersistentSessions.Session used = sessions.open(device, false).get(30, TimeUnit.SECONDS);
        used.save(Map.of("$iothub/methods/POST/#", 1)).get(30, TimeUnit.SECONDS);
        used.close();
        now.set(now.get().plus(EXPIRY).plusSeconds(1));

        // the device is online and listens for methods, but never answers
        DirectMethodService methods = new DirectMethodService(registry, connections, timer, Runnable::run);
        DeviceLink link = new SilentLink(device);
        connections.register(link);
        methods.attach(link, new MethodRequestSink() {
            @Override
            public boolean ready() {
                return true;
            }

            @Override
            public CompletableFuture<Void> deliver(MethodRequest request) {
                return CompletableFuture.completedFuture(null);
            }
        });

        try (SessionExpiry expiry = new SessionExpiry(sessions, timer, Duration.ofMillis(10))) {
            assertTrue(store.deletionAsked.await(30, TimeUnit.SECONDS), "the scan found nothing to expire");
            long start = System.nanoTime();
            CompletableFuture<?> call = methods.invoke("slow-disk-dev", null,
                    new MethodCall("reboot", null, 5, null));
            ExecutionException failed = assertThrows(ExecutionException.class, () -> call.get(60, TimeUnit.SECONDS));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(HubErrorCode.GatewayTimeout, assertInstanceOf(HubException.class, failed.getCause())
                    .errorCode());
            System.out.printf("a 5 s method timeout fired after %d ms while the expiry scan waited for storage%n",
                    millis);
            assertTrue(millis < 8_000, "the 5 s method timeout fired after " + millis + " ms");
        }
    }

    private static AuthenticatedDevice register(RegistryService registry, String deviceId) {
        Device device = registry.putDevice(deviceId, new Device(deviceId, null, null, null, null, null, null, false,
                null, null), null);
        return new AuthenticatedDevice(deviceId, null, "sas", device.generationId(), Long.MAX_VALUE);
    }

    /** The real store, except that deletions become durable only once the storage answers (a stalled disk). */
    private final class HeldDeletions implements SessionStore {
        private final SessionStore store;
        final CountDownLatch deletionAsked = new CountDownLatch(1);

        HeldDeletions(SessionStore store) {
            this.store = store;
        }

        @Override
        public Optional<StoredSession> get(String deviceId, String moduleId) {
            return store.get(deviceId, moduleId);
        }

        @Override
        public CompletableFuture<Void> put(String deviceId, String moduleId, StoredSession session) {
            return store.put(deviceId, moduleId, session);
        }

        @Override
        public CompletableFuture<Void> delete(String deviceId, String moduleId) {
            CompletableFuture<Void> deleted = store.delete(deviceId, moduleId);
            deletionAsked.countDown();
            return deleted.thenRunAsync(() -> {
                try {
                    storageAnswers.await(HOLD_MILLIS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        @Override
        public CompletableFuture<Void> deleteDevice(String deviceId) {
            return store.deleteDevice(deviceId);
        }

        @Override
        public List<Entry> scan(String afterDeviceId, String afterModuleId, int limit) {
            return store.scan(afterDeviceId, afterModuleId, limit);
        }
    }

    private record SilentLink(AuthenticatedDevice identity) implements DeviceLink {
        @Override
        public String transport() {
            return "test";
        }

        @Override
        public Optional<StreamRequestSink> streamRequests() {
            return Optional.empty();
        }

        @Override
        public void close(HubErrorCode reason) {
        }
    }
}
