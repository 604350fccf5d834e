package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;

import java.time.Clock;

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

        Link(StreamToken token, TunnelWatches watches, Clock clock) {
            this.token = token;
            this.watches = watches;
            this.clock = clock;
        }

        synchronized int newEnd() {
            return ends++;
        }

        synchronized ByteBuf onFrame(int end, ByteBuf frame, ChannelHandlerContext ctx) {
            byte type = frame.getByte(frame.readerIndex());
            if (type == TunnelWatch.ACK) {
                return frame;
            }
            if (type == TunnelWatch.HELLO) {
                hello(end, frame);
                return frame;
            }
            int direction = serviceEnd < 0 || end == serviceEnd ? TunnelWatch.SERVICE_TO_DEVICE
                    : TunnelWatch.DEVICE_TO_SERVICE;
            if (watch == null || next[direction] == 0) {
                return TunnelWatch.enforce(frame, ctx.alloc(), token, clock);
            }
            return watch.onFrame(direction, next[direction]++, frame, ctx.alloc(), token);
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
