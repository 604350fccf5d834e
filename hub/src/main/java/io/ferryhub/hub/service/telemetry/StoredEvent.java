package io.ferryhub.hub.service.telemetry;

/**
 * An event read back from the log with its place in the partition.
 *
 * @param offset         the event's byte offset in its partition (Event Hubs' opaque offset)
 * @param sequenceNumber 0 for the partition's first event, one more for each next one
 * @param enqueuedTimeMillis when the log accepted it, epoch milliseconds
 */
public record StoredEvent(int partition, long sequenceNumber, long offset, long enqueuedTimeMillis, EventData data) {
}
