package io.ferryhub.gateway;

import java.time.Instant;

/**
 * What the gateway reports about each channel of a tunnel session: when the device accepted it
 * ({@code channelOpened}), when both sides closed it or the session ended ({@code channelClosed}), or when the
 * stream policy refused its target ({@code channelDenied}). Bytes are DATA payload, counted once even when a resumed
 * session replays frames.
 *
 * @param streamId  the stream the session was opened on (a resumed session keeps its first stream's id)
 * @param initiator the shared access policy that opened the session
 * @param closed    null unless {@code channelClosed}
 * @param reason    why it closed or was denied; null for {@code channelOpened}
 */
public record ChannelAuditEvent(Kind kind, String streamId, String hubName, String deviceId, String moduleId,
                                String initiator, long channel, String target, Instant opened, Instant closed,
                                String reason, long bytesServiceToDevice, long bytesDeviceToService) {
    public enum Kind { channelOpened, channelClosed, channelDenied }
}
