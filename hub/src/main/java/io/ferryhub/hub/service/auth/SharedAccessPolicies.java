package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.storage.registry.RegistryStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The hub's shared access policies. IoT Hub's five defaults (iothubowner, service, device, registryRead,
 * registryReadWrite) are created with fresh keys on first start and kept in storage from then on; operators add,
 * change and delete policies and regenerate or swap their keys. Each change is checked against
 * {@link SharedAccessPolicyRules}, stored (the whole set in one journaled write) and only then served, one change at
 * a time; readers see either the set before it or the set after. A key that stops being valid (regenerated, or its
 * policy deleted) is announced to the listeners, which close what it opened.
 */
public final class SharedAccessPolicies {
    private static final Logger log = LoggerFactory.getLogger(SharedAccessPolicies.class);
    public static final String IOTHUBOWNER = "iothubowner";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Which key a regeneration replaces, or a swap of the two. */
    public enum KeyChange {
        PRIMARY, SECONDARY, SWAP
    }

    /** Told of keys that no longer hold, after the change is stored. Must not block. */
    public interface KeysRevoked {
        /** @param keyIds {@link SharedAccessPolicy#keyId}s of the keys that no longer hold */
        void revoked(String policyName, Set<String> keyIds, String why);
    }

    private final RegistryStore store;
    /** Replaced whole on each change (under this object's lock), read without it. */
    private volatile Map<String, SharedAccessPolicy> byName;
    private final boolean createdNow;
    private final List<KeysRevoked> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> changeListeners = new CopyOnWriteArrayList<>();

    /** Loads the stored policies, or creates and stores the defaults when there are none (first start). */
    public SharedAccessPolicies(RegistryStore store) {
        this.store = store;
        List<SharedAccessPolicy> stored = store.policies();
        createdNow = stored.isEmpty();
        if (createdNow) {
            stored = defaults();
            StorageWrites.await(store.putPolicies(stored), "the shared access policies");
            log.info("created the default shared access policies with new keys");
        }
        byName = index(stored);
    }

    private static Map<String, SharedAccessPolicy> index(List<SharedAccessPolicy> policies) {
        Map<String, SharedAccessPolicy> out = new LinkedHashMap<>();
        policies.forEach(p -> out.put(p.keyName(), p));
        return Collections.unmodifiableMap(out);
    }

    private static List<SharedAccessPolicy> defaults() {
        return List.of(
                policy(IOTHUBOWNER, EnumSet.allOf(Permission.class)),
                policy("service", EnumSet.of(Permission.ServiceConnect)),
                policy("device", EnumSet.of(Permission.DeviceConnect)),
                policy("registryRead", EnumSet.of(Permission.RegistryRead)),
                policy("registryReadWrite", EnumSet.of(Permission.RegistryRead, Permission.RegistryWrite)));
    }

    private static SharedAccessPolicy policy(String name, Set<Permission> rights) {
        return new SharedAccessPolicy(name, newKey(), newKey(), rights);
    }

    private static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public void onKeysRevoked(KeysRevoked listener) {
        listeners.add(listener);
    }

    /** Told the name of each policy created, changed, re-keyed or deleted, after the change is stored. */
    public void onChange(Consumer<String> listener) {
        changeListeners.add(listener);
    }

    /** Policy names are case-sensitive, as in IoT Hub. */
    public Optional<SharedAccessPolicy> find(String keyName) {
        return Optional.ofNullable(byName.get(keyName));
    }

    /**
     * The policy, or a 404 saying so.
     *
     * @throws HubException SharedAccessPolicyNotFound
     */
    public SharedAccessPolicy get(String keyName) {
        return find(keyName).orElseThrow(() -> new HubException(HubErrorCode.SharedAccessPolicyNotFound,
                "no shared access policy '" + keyName + "': 'iothub policy list' shows the hub's policies"));
    }

    /** Whether policy {@code keyName} exists and one of its keys has id {@code keyId}. */
    public boolean holds(String keyName, String keyId) {
        SharedAccessPolicy p = byName.get(keyName);
        return p != null && (SharedAccessPolicy.keyId(p.primaryKey()).equals(keyId)
                || SharedAccessPolicy.keyId(p.secondaryKey()).equals(keyId));
    }

    public List<SharedAccessPolicy> all() {
        return List.copyOf(byName.values());
    }

    /** True when this start created the policies: the hub's first start on this data directory. */
    public boolean createdNow() {
        return createdNow;
    }

    /** The result of {@link #put}: the policy as stored, and whether it is new. */
    public record Put(SharedAccessPolicy policy, boolean created) {
    }

    /**
     * Creates a policy with new keys, or gives an existing one {@code rights}: its keys stay, and requests are
     * judged by the new rights from the next one on. What stays open without further requests (AMQP service links,
     * streams) needs ServiceConnect: a policy losing it has both keys announced as revoked, which closes them.
     *
     * @throws HubException ArgumentInvalid for a bad name or rights or a 17th policy, InvalidOperation when the
     *         change would leave no policy granting RegistryWrite (or every right)
     */
    public synchronized Put put(String keyName, Set<Permission> rights) {
        SharedAccessPolicyRules.checkName(keyName);
        if (rights.isEmpty()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "a shared access policy needs at least one right");
        }
        SharedAccessPolicy old = byName.get(keyName);
        SharedAccessPolicy changed = old == null ? policy(keyName, rights)
                : new SharedAccessPolicy(keyName, old.primaryKey(), old.secondaryKey(), rights);
        List<SharedAccessPolicy> after = replacing(keyName, changed);
        SharedAccessPolicyRules.checkSet(after, (old == null ? "adding" : "changing") + " policy '" + keyName + "'");
        commit(after, keyName);
        log.info("shared access policy '{}' {} with rights {}", keyName, old == null ? "created" : "changed",
                SharedAccessPolicyRules.format(rights));
        if (old != null && old.rights().contains(Permission.ServiceConnect)
                && !rights.contains(Permission.ServiceConnect)) {
            announce(keyName, Set.of(SharedAccessPolicy.keyId(old.primaryKey()),
                    SharedAccessPolicy.keyId(old.secondaryKey())), "the shared access policy lost ServiceConnect");
        }
        return new Put(changed, old == null);
    }

    /**
     * Deletes a policy: its keys stop holding at once.
     *
     * @throws HubException SharedAccessPolicyNotFound, or InvalidOperation when it is the last policy granting
     *         RegistryWrite (or every right)
     */
    public synchronized void delete(String keyName) {
        SharedAccessPolicy old = get(keyName);
        List<SharedAccessPolicy> after = replacing(keyName, null);
        SharedAccessPolicyRules.checkSet(after, "deleting policy '" + keyName + "'");
        commit(after, keyName);
        log.info("shared access policy '{}' deleted", keyName);
        announce(keyName, Set.of(SharedAccessPolicy.keyId(old.primaryKey()),
                SharedAccessPolicy.keyId(old.secondaryKey())), "the shared access policy was deleted");
    }

    /**
     * Regenerates the primary or secondary key, or swaps the two. A regenerated key stops holding at once; a swap
     * revokes nothing, both keys still hold.
     *
     * @throws HubException SharedAccessPolicyNotFound
     */
    public synchronized SharedAccessPolicy changeKeys(String keyName, KeyChange change) {
        SharedAccessPolicy old = get(keyName);
        SharedAccessPolicy changed = switch (change) {
            case PRIMARY -> new SharedAccessPolicy(keyName, newKey(), old.secondaryKey(), old.rights());
            case SECONDARY -> new SharedAccessPolicy(keyName, old.primaryKey(), newKey(), old.rights());
            case SWAP -> new SharedAccessPolicy(keyName, old.secondaryKey(), old.primaryKey(), old.rights());
        };
        commit(replacing(keyName, changed), keyName);
        log.info("shared access policy '{}': {}", keyName, change == KeyChange.SWAP ? "keys swapped"
                : change.name().toLowerCase(java.util.Locale.ROOT) + " key regenerated");
        if (change != KeyChange.SWAP) {
            String replaced = change == KeyChange.PRIMARY ? old.primaryKey() : old.secondaryKey();
            announce(keyName, Set.of(SharedAccessPolicy.keyId(replaced)), "the shared access policy's "
                    + change.name().toLowerCase(java.util.Locale.ROOT) + " key was regenerated");
        }
        return changed;
    }

    /** The policies with {@code keyName} replaced by {@code policy} (appended if new; removed if null). */
    private List<SharedAccessPolicy> replacing(String keyName, SharedAccessPolicy policy) {
        List<SharedAccessPolicy> after = new ArrayList<>();
        boolean found = false;
        for (SharedAccessPolicy p : byName.values()) {
            if (p.keyName().equals(keyName)) {
                found = true;
                if (policy != null) {
                    after.add(policy);
                }
            } else {
                after.add(p);
            }
        }
        if (!found && policy != null) {
            after.add(policy);
        }
        return after;
    }

    /** Stores the whole set, then serves it: a failed write changes nothing. */
    private void commit(List<SharedAccessPolicy> after, String changed) {
        StorageWrites.await(store.putPolicies(after), "the shared access policies");
        byName = index(after);
        for (Consumer<String> l : changeListeners) {
            try {
                l.accept(changed);
            } catch (RuntimeException e) {
                log.error("a listener to policy '{}''s change failed", changed, e);
            }
        }
    }

    private void announce(String keyName, Set<String> keyIds, String why) {
        for (KeysRevoked l : listeners) {
            try {
                l.revoked(keyName, keyIds, why);
            } catch (RuntimeException e) {
                log.error("closing what policy '{}''s revoked key opened failed", keyName, e);
            }
        }
    }
}
