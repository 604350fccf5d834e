package io.ferryhub.common.websocket;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.AttributeKey;

import java.nio.charset.StandardCharsets;

/**
 * The WebSocket close statuses with which the streaming gateway ends a stream for good: the proxies must not
 * resume a tunnel session closed this way (a plain close or a dropped connection is a network event to ride out).
 * Status codes 4400-4499 are reserved for such final closes: {@link #REVOKED} when the device or module was
 * disabled, deleted or re-keyed, or its stream policy no longer allows the stream; {@link #CLOSED_BY_OPERATOR} when
 * an operator closed the stream ({@code DELETE /streams/{id}}).
 */
public final class FinalClose {
    /** The identity's credentials were revoked, or its stream policy withdrew the stream: do not resume. */
    public static final int REVOKED = 4403;
    /** An operator closed the stream: do not resume. */
    public static final int CLOSED_BY_OPERATOR = 4410;
    private static final int FIRST = 4400;
    private static final int LAST = 4499;
    /** A close frame's reason must fit its 125-byte control frame with the 2-byte status. */
    private static final int MAX_REASON_BYTES = 120;

    private static final AttributeKey<String> RECEIVED = AttributeKey.valueOf("ferryhub.finalClose");

    private FinalClose() {
    }

    public static boolean isFinal(int statusCode) {
        return statusCode >= FIRST && statusCode <= LAST;
    }

    /** A close status {@code code} with {@code reason} cut to what a close frame can carry. */
    public static WebSocketCloseStatus status(int code, String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        String text = reason;
        if (bytes.length > MAX_REASON_BYTES) {
            text = new String(bytes, 0, MAX_REASON_BYTES, StandardCharsets.UTF_8);
            while (text.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
                text = text.substring(0, text.length() - 1);
            }
        }
        return new WebSocketCloseStatus(code, text);
    }

    /** The reason of the final close this connection received, or null if it was not closed for good. */
    public static String receivedOn(Channel ws) {
        return ws.attr(RECEIVED).get();
    }

    /**
     * Notes a final close arriving on a client connection (placed where it sees decoded WebSocket frames, before
     * the protocol handler consumes the close), so that whoever sees the connection close can ask
     * {@link #receivedOn}.
     */
    public static final class Watcher extends ChannelInboundHandlerAdapter {
        public static final String NAME = "final-close";

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof CloseWebSocketFrame close && isFinal(close.statusCode())) {
                String reason = close.reasonText();
                ctx.channel().attr(RECEIVED).set(reason == null || reason.isEmpty() ? "closed for good" : reason);
            }
            ctx.fireChannelRead(msg);
        }
    }
}
