package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;

import java.time.Instant;

/**
 * What the gateway reports about each stream for the audit trail: once when both ends are joined, once when it
 * ends. The relay counts bytes by the order the ends connected; {@code firstSide} (from the first end's token) says
 * which end that was.
 *
 * @param closed      null for the opening event
 * @param reason      why it ended; null for the opening event
 * @param tunnel      the ends speak the multiplexed tunnel protocol (many connections over this stream)
 */
public record StreamAuditEvent(Kind kind, String streamId, String hubName, String deviceId, String moduleId,
                               String streamName, String initiator, boolean tunnel, Instant opened,
                               Instant closed, String reason, StreamToken.Side firstSide, long bytesFirstToSecond,
                               long bytesSecondToFirst) implements StreamEnds {
    public enum Kind { streamOpened, streamClosed }
}
