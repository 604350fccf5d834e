package io.ferryhub.hub.adapter.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-flight bound of {@link PipelinedResponses}: past it a request waits and reading stops until an earlier
 * request is answered. (Answer order over real TLS is in {@code RestPipeliningTest}.)
 */
class PipelinedResponsesTest {
    /** The dispatcher's stand-in: keeps each request's number so the test can answer it later. */
    private static final class Served extends ChannelInboundHandlerAdapter {
        final List<String> uris = new ArrayList<>();
        final List<Long> numbers = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            FullHttpRequest request = (FullHttpRequest) msg;
            uris.add(request.uri());
            numbers.add(PipelinedResponses.currentRequest(ctx));
            request.release();
        }
    }

    @Test
    void pastTheBoundRequestsWaitAndReadingStops() {
        Served served = new Served();
        EmbeddedChannel channel = new EmbeddedChannel(new PipelinedResponses(2), served);
        channel.writeInbound(request("/a"), request("/b"), request("/c"), request("/d"));
        assertEquals(List.of("/a", "/b"), served.uris);
        assertFalse(channel.config().isAutoRead());

        // /b answered first: held, and nothing more admitted
        channel.writeOneOutbound(PipelinedResponses.inOrder(served.numbers.get(1), response("b")));
        channel.flushOutbound();
        assertNull(channel.readOutbound());
        assertEquals(2, served.uris.size());

        // /a answered: both go out in order, and /c and /d take their places
        channel.writeOneOutbound(PipelinedResponses.inOrder(served.numbers.get(0), response("a")));
        channel.flushOutbound();
        assertEquals("a", body(channel.readOutbound()));
        assertEquals("b", body(channel.readOutbound()));
        assertEquals(List.of("/a", "/b", "/c", "/d"), served.uris);
        assertTrue(channel.config().isAutoRead());

        channel.writeOneOutbound(PipelinedResponses.inOrder(served.numbers.get(3), response("d")));
        channel.writeOneOutbound(PipelinedResponses.inOrder(served.numbers.get(2), response("c")));
        channel.flushOutbound();
        assertEquals("c", body(channel.readOutbound()));
        assertEquals("d", body(channel.readOutbound()));
        channel.finishAndReleaseAll();
    }

    @Test
    void aResponseWrittenWithoutANumberAnswersTheLastRequestInItsTurn() {
        Served served = new Served();
        EmbeddedChannel channel = new EmbeddedChannel(new PipelinedResponses(16), served);
        channel.writeInbound(request("/slow"), request("/too-large"));
        // as the body aggregator answers an oversized request: at once, untagged
        channel.writeOneOutbound(response("413"));
        channel.flushOutbound();
        assertNull(channel.readOutbound());
        channel.writeOneOutbound(PipelinedResponses.inOrder(served.numbers.get(0), response("slow")));
        channel.flushOutbound();
        assertEquals("slow", body(channel.readOutbound()));
        assertEquals("413", body(channel.readOutbound()));
        channel.finishAndReleaseAll();
    }

    private static FullHttpRequest request(String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    }

    private static FullHttpResponse response(String body) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    }

    private static String body(Object written) {
        FullHttpResponse response = (FullHttpResponse) written;
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }
}
