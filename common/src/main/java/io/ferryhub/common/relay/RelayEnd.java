package io.ferryhub.common.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * How one end of a relay carries bytes: a raw TCP connection (ByteBufs) or a WebSocket whose control frames are
 * already handled by the pipeline (data frames only reach the relay). Conversions hand buffers over without copying.
 */
public enum RelayEnd {
    TCP {
        @Override
        Object fromPeer(Object msg, RelayEnd peerKind) {
            // A WebSocket data frame's payload goes out as is; ownership moves with it.
            return msg instanceof ByteBufHolder holder ? holder.content() : msg;
        }

        @Override
        void closeAfterPendingWrites(Channel ch, WebSocketCloseStatus status) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    },
    WEBSOCKET {
        @Override
        Object fromPeer(Object msg, RelayEnd peerKind) {
            // Frames pass between two WebSockets unchanged, so text stays text and fragments stay fragments.
            return msg instanceof WebSocketFrame ? msg : new BinaryWebSocketFrame((ByteBuf) msg);
        }

        @Override
        void closeAfterPendingWrites(Channel ch, WebSocketCloseStatus status) {
            ch.writeAndFlush(new CloseWebSocketFrame(status)).addListener(ChannelFutureListener.CLOSE);
        }
    };

    /** Turns a message read from the peer end into one this end writes; takes ownership of {@code msg}. */
    abstract Object fromPeer(Object msg, RelayEnd peerKind);

    /** Closes the end after what was already written to it, the WebSocket way (a close frame) or the TCP way. */
    abstract void closeAfterPendingWrites(Channel ch, WebSocketCloseStatus status);

    /** The payload size of a data message read from this end; other messages are not relayed. */
    static int payloadBytes(Object msg) {
        if (msg instanceof ByteBuf buf) {
            return buf.readableBytes();
        }
        if (msg instanceof WebSocketFrame frame) {
            return frame.content().readableBytes();
        }
        ReferenceCountUtil.release(msg);
        throw new IllegalArgumentException("not relayable: " + msg.getClass().getSimpleName());
    }
}
