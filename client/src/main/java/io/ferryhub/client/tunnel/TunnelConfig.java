package io.ferryhub.client.tunnel;

import java.time.Duration;

/**
 * Limits and timeouts of tunnel sessions.
 *
 * @param channelWindow   bytes a peer may send on one channel before the receiver grants more: bounds the memory
 *                        one channel takes at the receiver, and lets a bulk channel not starve the others
 * @param maxChannels     channels open at once in one session; more are refused with OPEN_FAIL
 * @param maxReplayBytes  unacknowledged bytes kept for a resume; at the cap, local connections stop being read
 * @param grace           how long a session whose gateway connection dropped waits to be resumed
 * @param heartbeat       how often an idle link says it is alive (an ACK); a link silent for three is dropped
 * @param sessionIdle     a session with no channel for this long ends (zero: never)
 * @param channelIdle     a channel that moves no byte for this long is closed (zero: never)
 */
public record TunnelConfig(int channelWindow, int maxChannels, long maxReplayBytes, Duration grace,
                           Duration heartbeat, Duration sessionIdle, Duration channelIdle) {
    public TunnelConfig {
        if (channelWindow < TunnelFrame.MAX_DATA || maxChannels < 1 || maxReplayBytes < channelWindow) {
            throw new IllegalArgumentException("tunnel limits too small");
        }
    }

    public static TunnelConfig defaults() {
        return new TunnelConfig(256 * 1024, 1024, 16L * 1024 * 1024, Duration.ofSeconds(30), Duration.ofSeconds(5),
                Duration.ofMinutes(5), Duration.ofMinutes(30));
    }

    public TunnelConfig withGrace(Duration grace) {
        return new TunnelConfig(channelWindow, maxChannels, maxReplayBytes, grace, heartbeat, sessionIdle,
                channelIdle);
    }

    public TunnelConfig withMaxChannels(int max) {
        return new TunnelConfig(channelWindow, max, maxReplayBytes, grace, heartbeat, sessionIdle, channelIdle);
    }
}
