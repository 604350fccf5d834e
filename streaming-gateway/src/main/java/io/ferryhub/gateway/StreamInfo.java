package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;

import java.time.Instant;

/**
 * One stream as the operator sees it. The relay names the ends by arrival: the first to connect (usually the
 * device, which connects as soon as it accepts) and the second; {@code firstSide} says which that is.
 *
 * @param moduleId  null for a device stream
 * @param initiator the shared access policy that asked for the stream
 * @param state     {@code waiting} (one end connected) or {@code relaying}
 * @param initiatorKey the id of the initiator's key that asked for it; null when its token named none
 */
public record StreamInfo(String streamId, String hubName, String deviceId, String moduleId, String streamName,
                         String initiator, String state, Instant opened, StreamToken.Side firstSide,
                         long bytesFirstToSecond, long bytesSecondToFirst, String initiatorKey) implements StreamEnds {
}
