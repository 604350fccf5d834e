package io.ferryhub.hub.storage.ipfilter;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** The hub's IP filter rules, durable, written whole on every change (so a change is all or nothing). */
public interface IpFilterStore {
    /** @return the rules document as last saved, or empty when never saved */
    Optional<byte[]> load();

    /** Completes once {@code rulesJson} is on stable storage. */
    CompletableFuture<Void> save(byte[] rulesJson);
}
