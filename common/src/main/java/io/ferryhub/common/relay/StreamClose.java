package io.ferryhub.common.relay;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.AttributeKey;

import java.nio.charset.StandardCharsets;

/**
 * How the streaming gateway tells a stream's ends that the stream is over for good: a WebSocket close with status
 * {@link #ENDED_BY_HUB} (RFC 6455 private use) and the reason as its text, sent when an operator closes the stream.
 * A tunnel session whose link ends so ends at once, where a link that drops (or closes with any other status) is
 * resumed over a new stream.
 */
public final class StreamClose {
    /** The stream was ended by the hub (an operator's close): not to be resumed. */
    public static final int ENDED_BY_HUB = 4000;
    /** The close status the peer sent on a stream's WebSocket, if it sent one. */
    public static final AttributeKey<WebSocketCloseStatus> RECEIVED = AttributeKey.valueOf("ferryhub.stream-close");
    /** A close frame's reason is at most 123 bytes of UTF-8. */
    private static final int MAX_REASON_BYTES = 123;

    private StreamClose() {
    }

    /** The close status that ends a stream for good, with {@code reason} (shortened to fit a close frame). */
    public static WebSocketCloseStatus endedByHub(String reason) {
        String text = reason;
        while (text.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
            text = text.substring(0, text.length() - 1);
        }
        return new WebSocketCloseStatus(ENDED_BY_HUB, text);
    }

    /**
     * A handler for a WebSocket client's pipeline, in front of the handler that answers close frames: notes the
     * status of the close it receives in {@link #RECEIVED}, for whoever learns of the channel's end.
     */
    public static ChannelHandler watcher() {
        return new Watcher();
    }

    /** The reason the hub gave when it ended {@code status}'s stream for good, or null if it did not. */
    public static String endedByHubReason(WebSocketCloseStatus status) {
        return status != null && status.code() == ENDED_BY_HUB ? status.reasonText() : null;
    }

    private static final class Watcher extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof CloseWebSocketFrame close) {
                ctx.channel().attr(RECEIVED).set(new WebSocketCloseStatus(close.statusCode(),
                        close.reasonText() == null ? "" : close.reasonText()));
            }
            ctx.fireChannelRead(msg);
        }
    }
}
