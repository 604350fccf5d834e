package io.ferryhub.hub.service.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What back-ends hold open on the strength of a shared access policy's key (an AMQP connection's service grant and
 * the links under it, an Event Hubs client's grant and its receivers): when that key stops holding (regenerated, or
 * its policy deleted) each is told at once and closes itself, as a re-keyed device's connections are cut. What the
 * policy's other key opened is left alone, so clients moved to it keep working through a rotation.
 */
public final class ServiceGrants {
    private static final Logger log = LoggerFactory.getLogger(ServiceGrants.class);

    /** By policy name and key id ("policy/keyId"), the revoke callbacks of what that key opened. */
    private final Map<String, Set<Consumer<String>>> holders = new ConcurrentHashMap<>();

    /**
     * Records something {@code principal} opened; {@code revoke} is called with the reason (from any thread, once)
     * if its key stops holding. Returns what to call when it closes for another reason.
     */
    public Runnable hold(ServicePrincipal principal, Consumer<String> revoke) {
        String key = key(principal.policyName(), principal.keyId());
        holders.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(revoke);
        return () -> holders.computeIfPresent(key, (k, set) -> {
            set.remove(revoke);
            return set.isEmpty() ? null : set;
        });
    }

    /** Closes what the policy's keys {@code keyIds} opened; returns how many. */
    public int revoke(String policyName, Set<String> keyIds, String why) {
        int n = 0;
        for (String keyId : keyIds) {
            Set<Consumer<String>> revoked = holders.remove(key(policyName, keyId));
            if (revoked == null) {
                continue;
            }
            for (Consumer<String> r : List.copyOf(revoked)) {
                try {
                    r.accept(why);
                    n++;
                } catch (RuntimeException e) {
                    log.warn("closing a grant of policy '{}' failed", policyName, e);
                }
            }
        }
        if (n > 0) {
            log.info("policy '{}': {} open service grant(s) closed: {}", policyName, n, why);
        }
        return n;
    }

    /** Open grants, for tests and metrics. */
    public int size() {
        return holders.values().stream().mapToInt(Set::size).sum();
    }

    private static String key(String policyName, String keyId) {
        return policyName + "/" + keyId;
    }
}
