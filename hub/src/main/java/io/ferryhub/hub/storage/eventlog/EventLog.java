package io.ferryhub.hub.storage.eventlog;

import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import java.util.concurrent.CompletableFuture;

/**
 * The built-in event stream (IoT Hub's {@code messages/events} endpoint): partitioned, ordered per partition,
 * durable, retained by time and size. The embedded engine is {@link SegmentedEventLog}; a Kafka-backed
 * implementation maps partitions to topic partitions and offsets to Kafka offsets.
 */
public interface EventLog extends AutoCloseable {
    int partitionCount();

    /**
     * Appends an event. The future completes once the event is on stable storage (so a PUBACK may be sent) and
     * fails if it cannot be stored; events of one partition are stored in the order of the calls.
     */
    CompletableFuture<EventPosition> append(int partition, EventData event);

    EventReader openReader(int partition, StartPosition start);

    PartitionInfo partitionInfo(int partition);

    @Override
    void close();
}
