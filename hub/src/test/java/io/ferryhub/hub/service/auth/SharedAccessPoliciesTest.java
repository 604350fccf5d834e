package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class SharedAccessPoliciesTest {
    @TempDir
    Path dir;
    private final List<JournalStore> opened = new ArrayList<>();

    @AfterEach
    void closeStores() {
        opened.forEach(JournalStore::close);
    }

    private JournalStore open() throws IOException {
        JournalStore store = JournalStore.open(dir);
        opened.add(store);
        return store;
    }

    /** The policies kept in {@code store}. */
    private SharedAccessPolicies policies(KeyValueStore store) {
        return new SharedAccessPolicies(new KeyValueRegistryStore(store));
    }

    private record Revoked(String policy, Set<String> keyIds, String why) {
    }

    @Test
    void createsAPolicyWithFreshKeysAndTheRightsAsked() throws Exception {
        SharedAccessPolicies policies = policies(open());
        SharedAccessPolicies.Put put = policies.put("team-a", EnumSet.of(Permission.ServiceConnect));
        assertTrue(put.created());
        SharedAccessPolicy p = policies.get("team-a");
        assertEquals(Set.of(Permission.ServiceConnect), p.rights());
        assertEquals(44, p.primaryKey().length(), "a 256-bit key, base64");
        assertNotEquals(p.primaryKey(), p.secondaryKey());
        assertEquals(6, policies.all().size());
    }

    @Test
    void replacingAPolicysRightsKeepsItsKeysAndRevokesNothing() throws Exception {
        SharedAccessPolicies policies = policies(open());
        List<Revoked> revoked = new CopyOnWriteArrayList<>();
        policies.onKeysRevoked((name, ids, why) -> revoked.add(new Revoked(name, ids, why)));
        SharedAccessPolicy before = policies.put("team-a", EnumSet.of(Permission.ServiceConnect)).policy();
        SharedAccessPolicies.Put again = policies.put("team-a", EnumSet.of(Permission.RegistryRead,
                Permission.ServiceConnect));
        assertEquals(false, again.created());
        assertEquals(before.primaryKey(), again.policy().primaryKey());
        assertEquals(Set.of(Permission.RegistryRead, Permission.ServiceConnect), policies.get("team-a").rights());
        assertEquals(List.of(), revoked);

        // what stays open without further requests needs ServiceConnect: losing it closes what either key opened
        policies.put("team-a", EnumSet.of(Permission.RegistryRead));
        assertEquals(List.of(new Revoked("team-a", Set.of(SharedAccessPolicy.keyId(before.primaryKey()),
                SharedAccessPolicy.keyId(before.secondaryKey())), "the shared access policy lost ServiceConnect")),
                revoked);
    }

    @Test
    void regeneratingOneKeyRevokesThatKeyOnlyAndASwapRevokesNothing() throws Exception {
        SharedAccessPolicies policies = policies(open());
        List<Revoked> revoked = new CopyOnWriteArrayList<>();
        policies.onKeysRevoked((name, ids, why) -> revoked.add(new Revoked(name, ids, why)));
        SharedAccessPolicy p0 = policies.put("team-a", EnumSet.of(Permission.ServiceConnect)).policy();

        SharedAccessPolicy p1 = policies.changeKeys("team-a", SharedAccessPolicies.KeyChange.SECONDARY);
        assertEquals(p0.primaryKey(), p1.primaryKey());
        assertNotEquals(p0.secondaryKey(), p1.secondaryKey());
        assertEquals(List.of(new Revoked("team-a", Set.of(SharedAccessPolicy.keyId(p0.secondaryKey())),
                "the shared access policy's secondary key was regenerated")), revoked);

        revoked.clear();
        SharedAccessPolicy p2 = policies.changeKeys("team-a", SharedAccessPolicies.KeyChange.SWAP);
        assertEquals(p1.secondaryKey(), p2.primaryKey());
        assertEquals(p1.primaryKey(), p2.secondaryKey());
        assertEquals(List.of(), revoked, "after a swap both keys still hold");

        SharedAccessPolicy p3 = policies.changeKeys("team-a", SharedAccessPolicies.KeyChange.PRIMARY);
        assertEquals(p2.secondaryKey(), p3.secondaryKey());
        assertEquals(List.of(new Revoked("team-a", Set.of(SharedAccessPolicy.keyId(p2.primaryKey())),
                "the shared access policy's primary key was regenerated")), revoked);
    }

    @Test
    void deletingAPolicyRevokesBothItsKeys() throws Exception {
        SharedAccessPolicies policies = policies(open());
        List<Revoked> revoked = new CopyOnWriteArrayList<>();
        policies.onKeysRevoked((name, ids, why) -> revoked.add(new Revoked(name, ids, why)));
        SharedAccessPolicy p = policies.put("team-a", EnumSet.of(Permission.ServiceConnect)).policy();
        policies.delete("team-a");
        assertEquals(Optional.empty(), policies.find("team-a"));
        assertEquals(List.of(new Revoked("team-a", Set.of(SharedAccessPolicy.keyId(p.primaryKey()),
                SharedAccessPolicy.keyId(p.secondaryKey())), "the shared access policy was deleted")), revoked);
    }

    @Test
    void unknownPoliciesAre404WithTheirName() throws Exception {
        SharedAccessPolicies policies = policies(open());
        for (Runnable r : List.<Runnable>of(() -> policies.get("nope"), () -> policies.delete("nope"),
                () -> policies.changeKeys("nope", SharedAccessPolicies.KeyChange.PRIMARY))) {
            HubException e = assertThrows(HubException.class, r::run);
            assertEquals(HubErrorCode.SharedAccessPolicyNotFound, e.errorCode());
            assertEquals(404, e.errorCode().httpStatus());
            assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
        }
    }

    @Test
    void theLastRegistryWritePolicyCannotBeDeletedNorLoseRegistryWrite() throws Exception {
        SharedAccessPolicies policies = policies(open());
        policies.delete("registryReadWrite");
        SharedAccessPolicy owner = policies.get("iothubowner");
        HubException deleting = assertThrows(HubException.class, () -> policies.delete("iothubowner"));
        assertEquals(HubErrorCode.InvalidOperation, deleting.errorCode());
        HubException narrowing = assertThrows(HubException.class, () -> policies.put("iothubowner",
                EnumSet.of(Permission.RegistryRead, Permission.ServiceConnect, Permission.DeviceConnect)));
        assertEquals(HubErrorCode.InvalidOperation, narrowing.errorCode());
        assertTrue(narrowing.getMessage().contains("RegistryWrite"), narrowing.getMessage());
        assertEquals(owner, policies.get("iothubowner"), "nothing changed");
    }

    @Test
    void changesSurviveAReopenOfTheStore() throws Exception {
        JournalStore first = open();
        SharedAccessPolicies policies = policies(first);
        policies.put("team-a", EnumSet.of(Permission.ServiceConnect, Permission.RegistryRead));
        SharedAccessPolicy rotated = policies.changeKeys("team-a", SharedAccessPolicies.KeyChange.PRIMARY);
        policies.delete("device");
        first.close();
        opened.remove(first);

        SharedAccessPolicies reopened = policies(open());
        assertEquals(false, reopened.createdNow());
        assertEquals(rotated, reopened.get("team-a"));
        assertEquals(Optional.empty(), reopened.find("device"));
        assertEquals(policies.all(), reopened.all());
    }

    @Test
    void aFailedWriteChangesNothing() throws Exception {
        JournalStore journal = open();
        AtomicBoolean fail = new AtomicBoolean();
        KeyValueStore failing = new KeyValueStore() {
            @Override
            public Optional<byte[]> get(String namespace, String key) {
                return journal.get(namespace, key);
            }

            @Override
            public List<Entry> scan(String namespace, String afterKey, int limit) {
                return journal.scan(namespace, afterKey, limit);
            }

            @Override
            public List<Entry> scanPrefix(String namespace, String prefix, int limit) {
                return journal.scanPrefix(namespace, prefix, limit);
            }

            @Override
            public long count(String namespace) {
                return journal.count(namespace);
            }

            @Override
            public CompletableFuture<Void> commit(List<Mutation> mutations) {
                return fail.get() ? CompletableFuture.failedFuture(new IOException("disk full"))
                        : journal.commit(mutations);
            }

            @Override
            public void close() {
            }
        };
        SharedAccessPolicies policies = policies(failing);
        List<Revoked> revoked = new CopyOnWriteArrayList<>();
        policies.onKeysRevoked((name, ids, why) -> revoked.add(new Revoked(name, ids, why)));
        List<SharedAccessPolicy> before = policies.all();
        fail.set(true);
        assertEquals(HubErrorCode.ServerError, assertThrows(HubException.class,
                () -> policies.changeKeys("service", SharedAccessPolicies.KeyChange.PRIMARY)).errorCode());
        assertThrows(HubException.class, () -> policies.put("team-a", EnumSet.of(Permission.ServiceConnect)));
        assertThrows(HubException.class, () -> policies.delete("device"));
        assertEquals(before, policies.all(), "served as before");
        assertEquals(List.of(), revoked, "no key was revoked");
        assertEquals(before, policies(journal).all(), "stored as before");
    }

    @Test
    void concurrentCreatesStopAtSixteenExactly() throws Exception {
        JournalStore store = open();
        SharedAccessPolicies policies = policies(store);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String name = "p" + i;
                results.add(pool.submit(() -> {
                    try {
                        policies.put(name, EnumSet.of(Permission.ServiceConnect));
                        return true;
                    } catch (HubException e) {
                        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
                        return false;
                    }
                }));
            }
            int created = 0;
            for (Future<Boolean> f : results) {
                created += f.get() ? 1 : 0;
            }
            assertEquals(11, created, "five defaults and eleven more");
            assertEquals(16, policies.all().size());
            assertEquals(16, policies(store).all().size(), "as stored");
        } finally {
            pool.shutdownNow();
        }
    }
}
