package io.ferryhub.hub.service.telemetry;

/**
 * A partition's runtime state, as Event Hubs' {@code $management} node reports it.
 *
 * @param beginSequenceNumber the oldest retained event's sequence number ({@code lastSequenceNumber + 1} when empty)
 * @param lastSequenceNumber  -1 when nothing was ever appended
 * @param lastOffset          -1 when nothing was ever appended
 * @param lastEnqueuedTimeMillis 0 when nothing was ever appended
 */
public record PartitionInfo(int partition, long beginSequenceNumber, long lastSequenceNumber, long lastOffset,
                            long lastEnqueuedTimeMillis, long retainedBytes) {
    public boolean isEmpty() {
        return beginSequenceNumber > lastSequenceNumber;
    }
}
