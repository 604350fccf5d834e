package io.ferryhub.client.tunnel;

import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.websocket.FinalClose;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Queue;

/**
 * The end of a tunnel WebSocket's pipeline: hands each binary message (one tunnel frame) to its current sink,
 * first the HELLO exchange, then the session. Anything but a binary message breaks the protocol and closes it.
 */
final class TunnelLink extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TunnelLink.class);

    interface Sink {
        /** Takes ownership of {@code frame}; called on the link's event loop, in order. */
        void frame(Channel link, ByteBuf frame);

        void closed(Channel link);

        /** The hub ended the link's stream for good (a {@link FinalClose} status): nothing to resume. */
        default void endedByHub(Channel link, String reason) {
            closed(link);
        }

        default void writable(Channel link) {
        }
    }

    private volatile Sink sink;

    private TunnelLink(Sink sink) {
        this.sink = sink;
    }

    /** Takes over a WebSocket that a {@link HoldingHandler} ends, replaying what it held. */
    static TunnelLink install(Channel ws, Sink first) {
        TunnelLink link = new TunnelLink(first);
        ws.eventLoop().execute(() -> {
            ChannelPipeline p = ws.pipeline();
            Queue<Object> held = null;
            if (p.get(HoldingHandler.NAME) instanceof HoldingHandler holding) {
                held = holding.drain();
                p.remove(holding);
            }
            p.addLast("tunnel-link", link);
            ChannelHandlerContext ctx = p.context(link);
            if (held != null) {
                held.forEach(msg -> link.channelRead(ctx, msg));
            }
            if (!ws.isActive()) {
                link.sink.closed(ws);
                return;
            }
            ws.config().setAutoRead(true);
            ws.read();
        });
        return link;
    }

    /** Switches the sink; call on the link's event loop (from the current sink), so no frame goes astray. */
    void sink(Sink next) {
        this.sink = next;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof BinaryWebSocketFrame frame && frame.content().readableBytes() >= TunnelFrame.HEADER) {
            sink.frame(ctx.channel(), frame.content());
            return;
        }
        ReferenceCountUtil.release(msg);
        log.warn("tunnel link {}: not a tunnel frame ({}); closing", ctx.channel().remoteAddress(),
                msg.getClass().getSimpleName());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        String endedByHub = FinalClose.receivedOn(ctx.channel());
        if (endedByHub != null) {
            sink.endedByHub(ctx.channel(), endedByHub);
        } else {
            sink.closed(ctx.channel());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            sink.writable(ctx.channel());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("tunnel link {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
