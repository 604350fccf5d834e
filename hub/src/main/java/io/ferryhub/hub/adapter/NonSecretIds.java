package io.ferryhub.hub.adapter;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Random ids that only tell things apart and guard nothing (error tracking ids, the correlation ids the hub matches
 * answers by on one link), made without blocking. {@code UUID.randomUUID()} draws from SecureRandom, which reads
 * /dev/urandom, a file read: these ids are made on event loops and on the hub's timer, which must never wait.
 */
public final class NonSecretIds {
    private NonSecretIds() {
    }

    /** A version 4 (random) UUID from a non-blocking, non-cryptographic source. */
    public static UUID uuid() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
        long low = (random.nextLong() & ~(3L << 62)) | (1L << 63); // IETF variant
        return new UUID(high, low);
    }
}
