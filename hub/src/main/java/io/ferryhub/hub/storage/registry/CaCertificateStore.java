package io.ferryhub.hub.storage.registry;

import io.ferryhub.hub.service.auth.CaCertificate;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Where registered certificate authorities live; writes complete once durable. */
public interface CaCertificateStore {
    Optional<CaCertificate> find(String name);

    List<CaCertificate> all();

    CompletableFuture<Void> put(CaCertificate certificate);

    CompletableFuture<Void> delete(String name);
}
