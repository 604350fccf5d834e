package io.ferryhub.common.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One end's half of a relay: forwards what this channel reads to the peer, and stops reading while the peer can't
 * take more (its outbound buffer is above the high-water mark), so a slow reader slows the writer and memory stays
 * bounded by the water marks. When this channel becomes writable again, the peer resumes reading.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);

    private final RelaySession session;

    RelayHandler(RelaySession session) {
        this.session = session;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // The peer may have paused reading while this end was not set up yet (its writability events went
        // unheard): resume it if this end can take data.
        if (ctx.channel().isWritable()) {
            session.peerOf(ctx.channel()).config().setAutoRead(true);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel peer = session.peerOf(ctx.channel());
        int bytes = RelayEnd.payloadBytes(msg);
        session.count(ctx.channel(), bytes);
        peer.write(session.kindOf(peer).fromPeer(msg, session.kindOf(ctx.channel())), peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Channel peer = session.peerOf(ctx.channel());
        peer.flush();
        if (!peer.isWritable()) {
            ctx.channel().config().setAutoRead(false);
            // The peer may have drained between the check and the switch; its writability event could be lost.
            if (peer.isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            session.peerOf(ctx.channel()).config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.close(session.nameOf(ctx.channel()) + " closed");
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            session.close("idle", WebSocketCloseStatus.ENDPOINT_UNAVAILABLE);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("relay end {} failed", session.nameOf(ctx.channel()), cause);
        session.close(session.nameOf(ctx.channel()) + " failed: " + cause.getMessage(),
                WebSocketCloseStatus.INTERNAL_SERVER_ERROR);
    }
}
