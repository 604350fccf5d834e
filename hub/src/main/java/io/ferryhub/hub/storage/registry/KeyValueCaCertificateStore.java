package io.ferryhub.hub.storage.registry;

import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.CaCertificate;
import io.ferryhub.hub.storage.KeyValueStore;
import io.ferryhub.hub.storage.KeyValueStore.Mutation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Certificate authorities on a {@link KeyValueStore}, keyed by name, as JSON. */
public final class KeyValueCaCertificateStore implements CaCertificateStore {
    static final String CERTIFICATES = "caCertificates";

    private final KeyValueStore store;

    public KeyValueCaCertificateStore(KeyValueStore store) {
        this.store = store;
    }

    @Override
    public Optional<CaCertificate> find(String name) {
        return store.get(CERTIFICATES, name).map(KeyValueCaCertificateStore::read);
    }

    @Override
    public List<CaCertificate> all() {
        List<CaCertificate> out = new ArrayList<>();
        for (KeyValueStore.Entry e : store.scan(CERTIFICATES, null, Integer.MAX_VALUE)) {
            out.add(read(e.value()));
        }
        return out;
    }

    @Override
    public CompletableFuture<Void> put(CaCertificate certificate) {
        return store.commit(List.of(Mutation.put(CERTIFICATES, certificate.name(), Json.toBytes(certificate))));
    }

    @Override
    public CompletableFuture<Void> delete(String name) {
        return store.commit(List.of(Mutation.delete(CERTIFICATES, name)));
    }

    private static CaCertificate read(byte[] bytes) {
        try {
            return Json.MAPPER.readValue(bytes, CaCertificate.class);
        } catch (IOException e) {
            throw new UncheckedIOException("stored CA certificate is unreadable", e);
        }
    }
}
