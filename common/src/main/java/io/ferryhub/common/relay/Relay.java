package io.ferryhub.common.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleStateHandler;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.TimeUnit;

/**
 * The one byte relay of the product: the streaming gateway joins the two WebSockets of a stream, the proxies join
 * a local TCP connection to a stream's WebSocket. Both channels should be reading nothing yet (auto-read off, or a
 * {@link HoldingHandler} at the end of the pipeline) when joined; relaying starts once both ends are set up.
 */
public final class Relay {
    /** Per end: at most this much is queued towards a slow reader before its writer is paused. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);
    private static final String HANDLER = "relay";
    private static final String IDLE = "relay-idle";

    private Relay() {
    }

    /**
     * Joins {@code a} and {@code b}.
     *
     * @param idleTimeout the session ends when neither end moves a byte for this long; zero for never
     */
    public static RelaySession join(String nameA, Channel a, RelayEnd kindA, String nameB, Channel b,
                                    RelayEnd kindB, Duration idleTimeout) {
        RelaySession session = new RelaySession(nameA, a, kindA, nameB, b, kindB);
        // Before either end writes to the other, so both judge writability by the same marks.
        a.config().setWriteBufferWaterMark(WATER_MARK);
        b.config().setWriteBufferWaterMark(WATER_MARK);
        install(session, a, idleTimeout);
        install(session, b, idleTimeout);
        return session;
    }

    private static void install(RelaySession session, Channel ch, Duration idleTimeout) {
        ch.eventLoop().execute(() -> {
            if (!ch.isActive()) {
                session.close(session.nameOf(ch) + " closed");
                return;
            }
            ChannelPipeline p = ch.pipeline();
            Queue<Object> held = null;
            if (p.get(HoldingHandler.NAME) instanceof HoldingHandler holding) {
                held = holding.drain();
                p.remove(holding);
            }
            if (!idleTimeout.isZero()) {
                p.addLast(IDLE, new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
            }
            RelayHandler relay = new RelayHandler(session);
            p.addLast(HANDLER, relay);
            if (held != null && !held.isEmpty()) {
                // Straight into the relay: these already went through the decoders in front of it.
                ChannelHandlerContext ctx = p.context(relay);
                held.forEach(msg -> relay.channelRead(ctx, msg));
                relay.channelReadComplete(ctx);
            }
            ch.config().setAutoRead(true);
            ch.read();
        });
    }
}
