package io.ferryhub.gateway;

import java.time.Instant;

/**
 * What the gateway reports about each stream for the audit trail: once when both ends are joined, once when it
 * ends. The two ends are "first" and "second" in the order they connected (the gateway cannot tell which is the
 * device: both present the same token).
 *
 * @param closed      null for the opening event
 * @param reason      why it ended; null for the opening event
 * @param tunnel      the ends speak the multiplexed tunnel protocol (many connections over this stream)
 */
public record StreamAuditEvent(Kind kind, String streamId, String hubName, String deviceId, String moduleId,
                               String streamName, String initiator, boolean tunnel, Instant opened,
                               Instant closed, String reason, long bytesFirstToSecond, long bytesSecondToFirst) {
    public enum Kind { streamOpened, streamClosed }
}
