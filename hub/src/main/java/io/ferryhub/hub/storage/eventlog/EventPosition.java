package io.ferryhub.hub.storage.eventlog;

/** Where an appended event landed: returned once the event is durable. */
public record EventPosition(int partition, long sequenceNumber, long offset, long enqueuedTimeMillis) {
}
