package io.ferryhub.hub.service.telemetry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Event Hubs' epoch (exclusive) receivers, across all connections: per consumer group and partition, a receiver with
 * an epoch displaces the receivers there whose epoch is lower or equal, or who have none; a receiver is refused
 * when one with a higher epoch is there, or, without an epoch of its own, when any epoch receiver is.
 */
public final class PartitionOwnership {
    /** A receiver's place on a consumer group's partition, until it goes or is displaced. */
    public final class Claim {
        private final String key;
        private final Long epoch;
        private final Consumer<String> onDisplaced;

        private Claim(String key, Long epoch, Consumer<String> onDisplaced) {
            this.key = key;
            this.epoch = epoch;
            this.onDisplaced = onDisplaced;
        }

        /** The receiver went: it no longer counts. Idempotent. */
        public void release() {
            synchronized (PartitionOwnership.this) {
                List<Claim> claims = byPartition.get(key);
                if (claims != null && claims.remove(this) && claims.isEmpty()) {
                    byPartition.remove(key);
                }
            }
        }
    }

    private final Map<String, List<Claim>> byPartition = new HashMap<>();

    /**
     * Places a receiver, displacing those the rules say it displaces: each is forgotten and told why through its
     * {@code onDisplaced}, which must not block (it runs under this object's lock).
     *
     * @param epoch null for a receiver without one
     * @throws HubException {@link HubErrorCode#LinkCreationConflict} when the receiver is refused
     */
    public synchronized Claim claim(String consumerGroup, int partition, Long epoch, Consumer<String> onDisplaced) {
        String key = consumerGroup.toLowerCase(Locale.ROOT) + "/" + partition;
        List<Claim> claims = byPartition.computeIfAbsent(key, k -> new ArrayList<>());
        for (Claim existing : claims) {
            if (existing.epoch != null && (epoch == null || existing.epoch > epoch)) {
                throw new HubException(HubErrorCode.LinkCreationConflict, "a receiver with epoch " + existing.epoch
                        + " holds partition " + partition + " of consumer group '" + consumerGroup + "': "
                        + (epoch == null ? "a receiver without an epoch" : "epoch " + epoch) + " cannot join it");
            }
        }
        if (epoch != null) {
            for (Claim displaced : claims) {
                displaced.onDisplaced.accept("a receiver with epoch " + epoch + " took partition " + partition
                        + " of consumer group '" + consumerGroup + "' from this receiver ("
                        + (displaced.epoch == null ? "without an epoch" : "epoch " + displaced.epoch)
                        + "); a receiver that reconnects must use a higher epoch");
            }
            claims.clear();
        }
        Claim claim = new Claim(key, epoch, onDisplaced);
        claims.add(claim);
        return claim;
    }
}
