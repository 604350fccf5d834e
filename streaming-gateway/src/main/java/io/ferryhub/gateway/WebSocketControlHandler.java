package io.ferryhub.gateway;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * Answers a stream WebSocket's control frames so only data frames go on to the relay: ping gets pong, unsolicited
 * pongs (.NET's keep-alive) are dropped, a close is answered and the connection closed.
 */
final class WebSocketControlHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
    WebSocketControlHandler() {
        super(false);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content()));
        } else if (frame instanceof PongWebSocketFrame) {
            frame.release();
        } else if (frame instanceof CloseWebSocketFrame close) {
            ctx.writeAndFlush(close).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.fireChannelRead(frame);
        }
    }
}
