package io.ferryhub.hub.storage.streams;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable stream policies, one per device or module, stored with the identity generation they were written for
 * (so a device deleted and created again does not inherit the old one's policy).
 */
public interface StreamPolicyStore {
    /** @param policyJson the policy document as the service validated it */
    record StoredPolicy(String generationId, byte[] policyJson) {
    }

    /** @param moduleId null for a device */
    Optional<StoredPolicy> get(String deviceId, String moduleId);

    CompletableFuture<Void> put(String deviceId, String moduleId, StoredPolicy policy);

    /** Deletes the identity's policy; for a device, its modules' too. */
    CompletableFuture<Void> delete(String deviceId, String moduleId);
}
