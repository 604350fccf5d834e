package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the gateway sees of one tunnel session ({@code ferryhub.tunnel.v1}, framing in docs/tunnels.md) over the
 * streams that carry it: it applies the stream policy to each channel's target and follows every channel from
 * OPEN to CLOSE for the audit trail. The proxies speak the protocol end to end; the gateway only reads the frames,
 * except a denied OPEN, whose target it replaces by one no device proxy maps, so the device answers OPEN_FAIL and
 * the session's frame numbering is untouched.
 *
 * <p>Frames are numbered per direction for the whole session and a resumed session replays the frames its peer
 * had not processed; the gateway counts each number once (the HELLOs say where the replay starts), so bytes and
 * events are not doubled by a resume. Two event loops (one per end) call in: every method is synchronized.
 */
final class TunnelWatch {
    private static final Logger log = LoggerFactory.getLogger(TunnelWatch.class);
    static final byte HELLO = 1;
    static final byte OPEN = 2;
    static final byte OPEN_OK = 3;
    static final byte OPEN_FAIL = 4;
    static final byte DATA = 5;
    static final byte CLOSE = 7;
    static final byte ACK = 8;
    static final byte END = 9;
    /**
     * Sent by the gateway only, to both ends, and never numbered (so the session's frame numbering is untouched):
     * the stream policy no longer allows this channel; each end closes it at once, without the CLOSE exchange.
     */
    static final byte REVOKE = 10;
    private static final int HEADER = 5;
    private static final int FLAG_RESUME = 1;
    /** No device proxy can map a name holding NUL: the device refuses the channel without connecting anything. */
    static final String DENIED_TARGET = "\0denied by stream policy";
    static final int SERVICE_TO_DEVICE = 0;
    static final int DEVICE_TO_SERVICE = 1;

    private final String sessionKey;
    private final StreamToken token;
    private final Clock clock;
    private final Consumer<ChannelAuditEvent> audit;
    /** Highest frame number accounted for, per direction. */
    private final long[] highest = new long[2];
    private final Map<Long, Watched> channels = new HashMap<>();
    /** Channels revoked by a policy change; an OPEN_OK still on its way for one of them is answered by a REVOKE. */
    private final java.util.Set<Long> revoked = new java.util.HashSet<>();
    private boolean ended;

    private static final class Watched {
        final String target;
        final Instant requested;
        boolean accepted;
        String denial;
        final boolean[] closeFrom = new boolean[2];
        String reason;
        final long[] bytes = new long[2];

        Watched(String target, Instant requested) {
            this.target = target;
            this.requested = requested;
        }
    }

    TunnelWatch(String sessionKey, StreamToken token, Clock clock, Consumer<ChannelAuditEvent> audit) {
        this.sessionKey = sessionKey;
        this.token = token;
        this.clock = clock;
        this.audit = audit;
    }

    String sessionKey() {
        return sessionKey;
    }

    static String sessionKeyOf(ByteBuf hello) {
        byte[] id = new byte[16];
        hello.getBytes(hello.readerIndex() + HEADER + 2, id);
        return HexFormat.of().formatHex(id);
    }

    static boolean isResume(ByteBuf hello) {
        return (hello.getByte(hello.readerIndex() + HEADER + 1) & FLAG_RESUME) != 0;
    }

    static long receivedOf(ByteBuf hello) {
        return hello.getLong(hello.readerIndex() + HEADER + 2 + 16);
    }

    synchronized int openChannels() {
        int n = 0;
        for (Watched w : channels.values()) {
            if (w.accepted) {
                n++;
            }
        }
        return n;
    }

    synchronized boolean ended() {
        return ended;
    }

    /** Streams currently carrying the session (0 between a dropped link and its resume). */
    int links;

    /**
     * One numbered frame, the {@code number}th in direction {@code direction}, on its way through. Returns the
     * frame to forward: the same one, or a replacement (the caller releases the original).
     */
    synchronized ByteBuf onFrame(int direction, long number, ByteBuf frame, ByteBufAllocator alloc,
                                 StreamToken streamToken, StreamPolicy grant) {
        boolean fresh = number > highest[direction];
        if (fresh) {
            highest[direction] = number;
        }
        int ri = frame.readerIndex();
        byte type = frame.getByte(ri);
        long channel = frame.getUnsignedInt(ri + 1);
        switch (type) {
            case OPEN -> {
                if (frame.readableBytes() < HEADER + 4) {
                    return frame;
                }
                String target = frame.toString(ri + HEADER + 4, frame.readableBytes() - HEADER - 4,
                        StandardCharsets.UTF_8);
                StreamPolicy.Denial denial = denial(grant, streamToken, target, clock);
                if (fresh && direction == SERVICE_TO_DEVICE) {
                    Watched w = new Watched(target, clock.instant());
                    channels.put(channel, w);
                    if (denial != null) {
                        w.denial = denial.message();
                        log.info("tunnel channel {} of stream {} ({} by {}) to '{}' denied: {}", channel,
                                streamToken.streamId(), identity(), token.initiator(), target, denial.message());
                        report(ChannelAuditEvent.Kind.channelDenied, channel, w, null, denial.check().label()
                                + ": " + denial.message());
                    }
                }
                return denial == null ? frame : deniedOpen(frame, alloc);
            }
            case OPEN_OK -> {
                Watched w = fresh ? channels.get(channel) : null;
                if (w != null && !w.accepted) {
                    w.accepted = true;
                    report(ChannelAuditEvent.Kind.channelOpened, channel, w, null, null);
                }
                return frame;
            }
            case OPEN_FAIL -> {
                Watched w = fresh ? channels.remove(channel) : null;
                if (w == null) {
                    return frame;
                }
                if (w.denial != null) {
                    byte[] text = w.denial.getBytes(StandardCharsets.UTF_8);
                    return alloc.buffer(HEADER + text.length).writeByte(OPEN_FAIL).writeInt((int) channel)
                            .writeBytes(text);
                }
                report(ChannelAuditEvent.Kind.channelClosed, channel, w, clock.instant(),
                        "refused by the device: " + text(frame));
                return frame;
            }
            case DATA -> {
                Watched w = fresh ? channels.get(channel) : null;
                if (w != null) {
                    w.bytes[direction] += frame.readableBytes() - HEADER;
                }
                return frame;
            }
            case CLOSE -> {
                Watched w = fresh ? channels.get(channel) : null;
                if (w != null) {
                    w.closeFrom[direction] = true;
                    if (w.reason == null) {
                        w.reason = (direction == SERVICE_TO_DEVICE ? "closed by the service side: "
                                : "closed by the device side: ") + text(frame);
                    }
                    if (w.closeFrom[0] && w.closeFrom[1]) {
                        channels.remove(channel);
                        if (w.accepted) {
                            report(ChannelAuditEvent.Kind.channelClosed, channel, w, clock.instant(), w.reason);
                        }
                    }
                }
                return frame;
            }
            case END -> {
                if (fresh) {
                    end("session ended by the " + (direction == SERVICE_TO_DEVICE ? "service" : "device")
                            + " side: " + text(frame));
                }
                return frame;
            }
            default -> {
                return frame;
            }
        }
    }

    private static StreamPolicy.Denial denial(StreamPolicy grant, StreamToken token, String target, Clock clock) {
        return grant == null ? null : grant.checkChannel(token.initiator(), token.streamName(), target,
                clock.instant());
    }

    /**
     * For an OPEN seen where the session cannot be followed (no HELLO yet): the policy still applies. Returns the
     * frame to forward.
     */
    static ByteBuf enforce(ByteBuf frame, ByteBufAllocator alloc, StreamToken token, StreamPolicy grant,
                           Clock clock) {
        int ri = frame.readerIndex();
        if (frame.getByte(ri) != OPEN || frame.readableBytes() < HEADER + 4) {
            return frame;
        }
        String target = frame.toString(ri + HEADER + 4, frame.readableBytes() - HEADER - 4, StandardCharsets.UTF_8);
        StreamPolicy.Denial denial = denial(grant, token, target, clock);
        if (denial == null) {
            return frame;
        }
        log.info("tunnel channel of stream {} to '{}' denied: {}", token.streamId(), target, denial.message());
        return deniedOpen(frame, alloc);
    }

    private static ByteBuf deniedOpen(ByteBuf open, ByteBufAllocator alloc) {
        byte[] name = DENIED_TARGET.getBytes(StandardCharsets.UTF_8);
        int ri = open.readerIndex();
        return alloc.buffer(HEADER + 4 + name.length).writeByte(OPEN).writeInt(open.getInt(ri + 1))
                .writeInt(open.getInt(ri + HEADER)).writeBytes(name);
    }

    /**
     * The stream policy changed to {@code grant}: forgets the channels it no longer allows (recording the accepted
     * ones as closed) and returns their numbers, for the caller to send each end a {@link #REVOKE}.
     */
    synchronized List<Long> revokeDenied(StreamPolicy grant, StreamToken streamToken) {
        List<Long> out = new ArrayList<>();
        Instant now = clock.instant();
        for (java.util.Iterator<Map.Entry<Long, Watched>> it = channels.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Watched> e = it.next();
            Watched w = e.getValue();
            StreamPolicy.Denial d = w.denial != null ? null : denial(grant, streamToken, w.target, clock);
            if (d == null) {
                continue;
            }
            it.remove();
            revoked.add(e.getKey());
            out.add(e.getKey());
            log.info("tunnel channel {} of stream {} ({}) to '{}' revoked: {}", e.getKey(), streamToken.streamId(),
                    identity(), w.target, d.message());
            if (w.accepted) {
                report(ChannelAuditEvent.Kind.channelClosed, e.getKey(), w, now,
                        "revoked: the stream policy changed: " + d.message());
            }
        }
        return out;
    }

    /** Whether a policy change revoked this channel (its late OPEN_OK must be answered by a REVOKE). */
    synchronized boolean isRevoked(long channel) {
        return revoked.contains(channel);
    }

    static ByteBuf revoke(ByteBufAllocator alloc, long channel, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        return alloc.buffer(HEADER + text.length).writeByte(REVOKE).writeInt((int) channel).writeBytes(text);
    }

    /** Closes the record of every channel still open (session ended or never resumed). */
    synchronized void end(String reason) {
        if (ended) {
            return;
        }
        ended = true;
        List<Map.Entry<Long, Watched>> open = new ArrayList<>(channels.entrySet());
        channels.clear();
        Instant now = clock.instant();
        for (Map.Entry<Long, Watched> e : open) {
            if (e.getValue().accepted) {
                report(ChannelAuditEvent.Kind.channelClosed, e.getKey(), e.getValue(), now, reason);
            }
        }
    }

    private void report(ChannelAuditEvent.Kind kind, long channel, Watched w, Instant closed, String reason) {
        try {
            audit.accept(new ChannelAuditEvent(kind, token.streamId(), token.hubName(), token.deviceId(),
                    token.moduleId(), token.initiator(), channel, w.target, w.requested, closed, reason,
                    w.bytes[SERVICE_TO_DEVICE], w.bytes[DEVICE_TO_SERVICE]));
        } catch (RuntimeException e) {
            log.warn("tunnel channel {} of stream {}: audit listener failed", channel, token.streamId(), e);
        }
    }

    private String identity() {
        return token.moduleId() == null ? token.deviceId() : token.deviceId() + "/" + token.moduleId();
    }

    private static String text(ByteBuf frame) {
        return frame.toString(frame.readerIndex() + HEADER, frame.readableBytes() - HEADER, StandardCharsets.UTF_8);
    }
}
