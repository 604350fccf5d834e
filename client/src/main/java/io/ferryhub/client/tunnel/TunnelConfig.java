package io.ferryhub.client.tunnel;

import java.time.Duration;

/**
 * Limits and timeouts of tunnel sessions.
 *
 * @param channelWindow   bytes a peer may send on a new channel before the receiver grants more: bounds the memory
 *                        one channel takes at the receiver, and lets a bulk channel not starve the others
 * @param maxChannelWindow how far the receiver may grow a channel's window when the window, not the path or the
 *                        local connection, is what holds a bulk sender back (equal to {@code channelWindow}: fixed)
 * @param maxChannels     channels open at once in one session; more are refused with OPEN_FAIL
 * @param maxReplayBytes  unacknowledged bytes kept for a resume; at the cap, local connections stop being read
 * @param grace           how long a session whose gateway connection dropped waits to be resumed
 * @param heartbeat       how often an idle link says it is alive (an ACK); a link silent for three is dropped
 * @param sessionIdle     a session with no channel for this long ends (zero: never)
 * @param channelIdle     a channel that moves no byte for this long is closed (zero: never)
 */
public record TunnelConfig(int channelWindow, int maxChannelWindow, int maxChannels, long maxReplayBytes, Duration grace,
                           Duration heartbeat, Duration sessionIdle, Duration channelIdle) {
    public TunnelConfig {
        if (channelWindow < TunnelFrame.MAX_DATA || maxChannelWindow < channelWindow || maxChannels < 1
                || maxReplayBytes < maxChannelWindow) {
            throw new IllegalArgumentException("tunnel limits too small");
        }
    }

    public static TunnelConfig defaults() {
        return new TunnelConfig(256 * 1024, 4 * 1024 * 1024, 1024, 16L * 1024 * 1024, Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(30));
    }

    public TunnelConfig withGrace(Duration grace) {
        return new TunnelConfig(channelWindow, maxChannelWindow, maxChannels, maxReplayBytes, grace, heartbeat,
                sessionIdle, channelIdle);
    }

    public TunnelConfig withMaxChannels(int max) {
        return new TunnelConfig(channelWindow, maxChannelWindow, max, maxReplayBytes, grace, heartbeat, sessionIdle,
                channelIdle);
    }

    /** The largest a channel's window may grow, in KiB: from the initial window (fixed windows) to the replay cap. */
    public TunnelConfig withMaxChannelWindowKib(long kib) {
        if (kib < channelWindow / 1024 || kib > maxReplayBytes / 1024) {
            throw new IllegalArgumentException("the largest channel window must be " + channelWindow / 1024 + " to "
                    + maxReplayBytes / 1024 + " KiB, got " + kib);
        }
        return withChannelWindow(channelWindow, (int) (kib * 1024));
    }

    /** Channel windows that start at {@code initial} and may grow up to {@code max}. */
    public TunnelConfig withChannelWindow(int initial, int max) {
        return new TunnelConfig(initial, max, maxChannels, maxReplayBytes, grace, heartbeat, sessionIdle,
                channelIdle);
    }
}
