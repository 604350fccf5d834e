package io.ferryhub.hub.adapter.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps an HTTP/1.1 connection's responses in the order of its requests. Requests are served concurrently (a slow
 * method call does not hold up a GET behind it), so their answers may be ready in any order; HTTP/1.1 pipelining
 * has nothing but order to pair an answer with its request, and a proxy that pipelines several users' requests on
 * one connection would hand one user another's answer. So an answer is held here until every earlier request's
 * answer has been written.
 * <p>
 * Requests are numbered as their heads arrive. A response written as {@link #inOrder} carries the number of its
 * request; any other response (an error written at once, the 413 of the body aggregator, a WebSocket handshake's
 * 101) answers the request read last. Interim (1xx) responses keep their request's turn. Other messages (WebSocket
 * frames after an upgrade) pass untouched.
 * <p>
 * At most {@code maxInFlight} requests are served at once: the next request waits here, and reading from the
 * socket stops, until an earlier one has been answered.
 */
final class PipelinedResponses extends ChannelDuplexHandler {
    /** A response to the request with this number; released as the response is, should it never be written. */
    private record Numbered(long request, HttpResponse response) implements ReferenceCounted {
        @Override
        public int refCnt() {
            return ReferenceCountUtil.refCnt(response);
        }

        @Override
        public Numbered retain() {
            ReferenceCountUtil.retain(response);
            return this;
        }

        @Override
        public Numbered retain(int increment) {
            ReferenceCountUtil.retain(response, increment);
            return this;
        }

        @Override
        public Numbered touch() {
            ReferenceCountUtil.touch(response);
            return this;
        }

        @Override
        public Numbered touch(Object hint) {
            ReferenceCountUtil.touch(response, hint);
            return this;
        }

        @Override
        public boolean release() {
            return ReferenceCountUtil.release(response);
        }

        @Override
        public boolean release(int decrement) {
            return ReferenceCountUtil.release(response, decrement);
        }
    }

    private record Held(HttpResponse response, ChannelPromise promise) {
    }

    private final int maxInFlight;
    /** Request heads passed on so far; the last one's number is {@code received - 1}. */
    private long received;
    /** Requests whose final response has been written; the next to write is the one with this number. */
    private long answered;
    private final Map<Long, List<Held>> held = new TreeMap<>();
    /** Requests (and their content) read beyond {@code maxInFlight}, in order. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private boolean readingPaused;

    PipelinedResponses(int maxInFlight) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1");
        }
        this.maxInFlight = maxInFlight;
    }

    /**
     * The number of the request being dispatched now (call while its {@code channelRead} runs), for
     * {@link #inOrder}; -1 when this handler is not in the pipeline.
     */
    static long currentRequest(ChannelHandlerContext ctx) {
        PipelinedResponses ordering = ctx.pipeline().get(PipelinedResponses.class);
        return ordering == null ? -1 : ordering.received - 1;
    }

    /**
     * A response to the request numbered by {@link #currentRequest}, to be written (from any thread, whenever it is
     * ready) in that request's turn.
     */
    static Object inOrder(long request, HttpResponse response) {
        return request < 0 ? response : new Numbered(request, response);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!waiting.isEmpty() || (msg instanceof HttpRequest && received - answered >= maxInFlight)) {
            waiting.add(msg);
            if (!readingPaused) {
                readingPaused = true;
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        deliver(ctx, msg);
    }

    private void deliver(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            received++;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        long request;
        HttpResponse response;
        if (msg instanceof Numbered numbered) {
            request = numbered.request();
            response = numbered.response();
        } else if (msg instanceof HttpResponse untagged) {
            request = received - 1;
            response = untagged;
        } else {
            ctx.write(msg, promise);
            return;
        }
        if (request > answered) {
            held.computeIfAbsent(request, r -> new ArrayList<>(1)).add(new Held(response, promise));
            return;
        }
        if (request < answered) {
            // its request's turn is over (or there was none): holding it would hold it forever
            ctx.write(response, promise);
            return;
        }
        long before = answered;
        pass(ctx, response, promise);
        List<Held> next;
        while ((next = held.remove(answered)) != null) {
            for (Held h : next) {
                pass(ctx, h.response(), h.promise());
            }
        }
        if (answered != before + 1) {
            ctx.flush(); // answers written from the hold: the caller flushes only its own
        }
        if (answered != before) {
            admitWaiting(ctx);
        }
    }

    private void pass(ChannelHandlerContext ctx, HttpResponse response, ChannelPromise promise) {
        ctx.write(response, promise);
        HttpResponseStatus status = response.status();
        if (status.codeClass() != HttpStatusClass.INFORMATIONAL
                || status.code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            answered++;
        }
    }

    /** Passes on the requests that waited, as far as the limit allows, and reads again once none waits. */
    private void admitWaiting(ChannelHandlerContext ctx) {
        while (!waiting.isEmpty()) {
            if (waiting.peek() instanceof HttpRequest && received - answered >= maxInFlight) {
                return;
            }
            deliver(ctx, waiting.poll());
        }
        if (readingPaused && ctx.channel().isActive()) {
            readingPaused = false;
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discard();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discard();
    }

    /** The connection is gone (or no longer HTTP): what waits here will never be served or written. */
    private void discard() {
        Object msg;
        while ((msg = waiting.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
        for (List<Held> responses : held.values()) {
            for (Held h : responses) {
                ReferenceCountUtil.release(h.response());
                h.promise().tryFailure(new ClosedChannelException());
            }
        }
        held.clear();
    }
}
