package io.ferryhub.hub.service.telemetry;

/** Where an appended event landed: returned once the event is durable. */
public record EventPosition(int partition, long sequenceNumber, long offset, long enqueuedTimeMillis) {
}
