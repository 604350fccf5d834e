package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;

import java.time.Clock;
import java.util.List;

/**
 * Reads the tunnel frames one end of a tunnel stream sends (one frame per binary WebSocket message; fragments are
 * aggregated before this handler) and hands them to the stream's {@link Link}, which follows the session and may
 * replace a denied OPEN.
 */
final class TunnelInspector extends ChannelInboundHandlerAdapter {
    static final String NAME = "tunnel-inspector";

    private final Link link;
    private final int end;

    TunnelInspector(Link link, int end) {
        this.link = link;
        this.end = end;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof BinaryWebSocketFrame frame) || frame.content().readableBytes() < 5) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf out = link.onFrame(end, frame.content(), ctx);
        if (out == frame.content()) {
            ctx.fireChannelRead(frame);
        } else {
            frame.release();
            ctx.fireChannelRead(new BinaryWebSocketFrame(out));
        }
    }

    /**
     * One stream of a tunnel session, both ends: which end is the service side (the one whose HELLO comes first:
     * the device side only answers), and the number the next frame in each direction carries.
     */
    static final class Link {
        private final StreamToken token;
        private final TunnelWatches watches;
        private final Clock clock;
        private int serviceEnd = -1;
        /** Number of the next numbered frame per direction; 0 until the HELLOs say. */
        private final long[] next = new long[2];
        private TunnelWatch watch;
        private int ends;
        private final Channel[] channels = new Channel[2];
        /** The stream policy the channels are judged by: the token's, until the hub says it changed. */
        private StreamPolicy grant;

        Link(StreamToken token, TunnelWatches watches, Clock clock) {
            this.token = token;
            this.watches = watches;
            this.clock = clock;
            this.grant = token.grant();
        }

        synchronized int newEnd(Channel ch) {
            if (ends < 2) {
                channels[ends] = ch;
            }
            return ends++;
        }

        /**
         * The identity's stream policy changed (null: it has none now): new channels are judged by it, and the
         * open ones it no longer allows are revoked at both ends.
         */
        void policyChanged(StreamPolicy narrowed) {
            List<Long> revoke;
            Channel[] to;
            synchronized (this) {
                grant = narrowed;
                revoke = watch == null ? List.of() : watch.revokeDenied(narrowed, token);
                to = channels.clone();
            }
            for (long channel : revoke) {
                sendRevoke(to, channel);
            }
        }

        private static void sendRevoke(Channel[] to, long channel) {
            for (Channel ch : to) {
                if (ch != null && ch.isActive()) {
                    ch.writeAndFlush(new BinaryWebSocketFrame(TunnelWatch.revoke(ch.alloc(), channel,
                            "the stream policy no longer allows this channel")));
                }
            }
        }

        /** The stream is being closed for good: its channels are recorded as closed with this reason now. */
        synchronized void revoked(String reason) {
            if (watch != null) {
                watch.end(reason);
            }
        }

        synchronized ByteBuf onFrame(int end, ByteBuf frame, ChannelHandlerContext ctx) {
            byte type = frame.getByte(frame.readerIndex());
            if (type == TunnelWatch.ACK || type == TunnelWatch.REVOKE) {
                return frame; // not numbered
            }
            if (type == TunnelWatch.HELLO) {
                hello(end, frame);
                return frame;
            }
            int direction = serviceEnd < 0 || end == serviceEnd ? TunnelWatch.SERVICE_TO_DEVICE
                    : TunnelWatch.DEVICE_TO_SERVICE;
            if (watch == null || next[direction] == 0) {
                return TunnelWatch.enforce(frame, ctx.alloc(), token, grant, clock);
            }
            ByteBuf out = watch.onFrame(direction, next[direction]++, frame, ctx.alloc(), token, grant);
            if (type == TunnelWatch.OPEN_OK && watch.isRevoked(frame.getUnsignedInt(frame.readerIndex() + 1))) {
                // the device opened it before the REVOKE reached it: revoke it again now that it exists there
                sendRevoke(channels.clone(), frame.getUnsignedInt(frame.readerIndex() + 1));
            }
            return out;
        }

        private void hello(int end, ByteBuf hello) {
            if (hello.readableBytes() < 5 + 2 + 16 + 8) {
                return;
            }
            long received = TunnelWatch.receivedOf(hello);
            if (serviceEnd < 0) {
                serviceEnd = end;
            }
            if (end == serviceEnd) {
                if (watch == null) {
                    boolean resume = TunnelWatch.isResume(hello);
                    watch = watches.attach(TunnelWatch.sessionKeyOf(hello), resume, token);
                    if (!resume) {
                        next[TunnelWatch.SERVICE_TO_DEVICE] = 1;
                    }
                }
                next[TunnelWatch.DEVICE_TO_SERVICE] = received + 1;
            } else {
                next[TunnelWatch.SERVICE_TO_DEVICE] = received + 1;
            }
        }

        /** The stream ended; the session may resume over another. */
        synchronized void ended(EventLoop timer) {
            if (watch != null) {
                watches.detach(watch, timer);
                watch = null;
            }
        }
    }
}
