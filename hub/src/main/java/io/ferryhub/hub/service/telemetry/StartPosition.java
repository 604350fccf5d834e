package io.ferryhub.hub.service.telemetry;

import java.time.Instant;

/** Where a reader starts in a partition, as Event Hubs readers choose it. */
public sealed interface StartPosition {
    /** The oldest event still retained. */
    record Earliest() implements StartPosition {
    }

    /** Only events appended after the reader opened. */
    record Latest() implements StartPosition {
    }

    /** The event at this byte offset ({@code inclusive}) or the one after it. */
    record Offset(long offset, boolean inclusive) implements StartPosition {
    }

    /** The event with this sequence number ({@code inclusive}) or the one after it. */
    record SequenceNumber(long sequenceNumber, boolean inclusive) implements StartPosition {
    }

    /** The first event enqueued at or after this time. */
    record EnqueuedTime(Instant time) implements StartPosition {
    }

    static StartPosition earliest() {
        return new Earliest();
    }

    static StartPosition latest() {
        return new Latest();
    }
}
