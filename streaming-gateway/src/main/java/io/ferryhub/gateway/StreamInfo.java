package io.ferryhub.gateway;

import java.time.Instant;

/**
 * One stream as the operator sees it. The ends are named by arrival: the first to connect (usually the device,
 * which connects as soon as it accepts) and the second.
 *
 * @param moduleId  null for a device stream
 * @param initiator the shared access policy that asked for the stream
 * @param state     {@code waiting} (one end connected) or {@code relaying}
 */
public record StreamInfo(String streamId, String hubName, String deviceId, String moduleId, String streamName,
                         String initiator, String state, Instant opened, long bytesFirstToSecond,
                         long bytesSecondToFirst) {
}
