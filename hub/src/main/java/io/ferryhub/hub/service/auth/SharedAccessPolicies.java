package io.ferryhub.hub.service.auth;

import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.storage.registry.RegistryStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The hub's shared access policies. IoT Hub's five defaults (iothubowner, service, device, registryRead,
 * registryReadWrite) are created with fresh keys on first start and kept in storage from then on.
 */
public final class SharedAccessPolicies {
    private static final Logger log = LoggerFactory.getLogger(SharedAccessPolicies.class);
    public static final String IOTHUBOWNER = "iothubowner";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, SharedAccessPolicy> byName = new LinkedHashMap<>();
    private final boolean createdNow;

    /** Loads the stored policies, or creates and stores the defaults when there are none (first start). */
    public SharedAccessPolicies(RegistryStore store) {
        List<SharedAccessPolicy> stored = store.policies();
        createdNow = stored.isEmpty();
        if (createdNow) {
            stored = defaults();
            StorageWrites.await(store.putPolicies(stored), "the shared access policies");
            log.info("created the default shared access policies with new keys");
        }
        stored.forEach(p -> byName.put(p.keyName(), p));
    }

    private static List<SharedAccessPolicy> defaults() {
        return List.of(
                policy(IOTHUBOWNER, EnumSet.allOf(Permission.class)),
                policy("service", EnumSet.of(Permission.ServiceConnect)),
                policy("device", EnumSet.of(Permission.DeviceConnect)),
                policy("registryRead", EnumSet.of(Permission.RegistryRead)),
                policy("registryReadWrite", EnumSet.of(Permission.RegistryRead, Permission.RegistryWrite)));
    }

    private static SharedAccessPolicy policy(String name, EnumSet<Permission> rights) {
        return new SharedAccessPolicy(name, newKey(), newKey(), rights);
    }

    private static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** Policy names are case-sensitive, as in IoT Hub. */
    public Optional<SharedAccessPolicy> find(String keyName) {
        return Optional.ofNullable(byName.get(keyName));
    }

    public List<SharedAccessPolicy> all() {
        return List.copyOf(byName.values());
    }

    /** True when this start created the policies: the hub's first start on this data directory. */
    public boolean createdNow() {
        return createdNow;
    }
}
