package io.ferryhub.client.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.SimpleChannelPool;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTPS client of the hub's own tools (CLI, service-proxy): Netty, keep-alive connections pooled per client,
 * many requests in flight at once (one per pooled connection), a deadline per request.
 * <p>
 * Idle connections are bounded: at most {@link #MAX_IDLE} wait in the pool (the most recently used is reused
 * first), the others are closed as their answer arrives, and one idle for {@link #IDLE_TIMEOUT} is closed. A burst
 * of requests thus costs connections for the burst only, instead of holding them until the hub's own idle timeout.
 */
public final class HubHttpClient implements AutoCloseable {
    public static final int MAX_IDLE = 8;
    public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    private static final AttributeKey<ScheduledFuture<?>> IDLE_TIMER = AttributeKey.valueOf("hub-http-idle-timer");

    /** The largest response body accepted; the hub's largest answers (device listings) stay well below. */
    private static final int MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
    private static final String RESPONSE_HANDLER = "response";

    private final EventLoopGroup group;
    private final boolean ownsGroup;
    private final SimpleChannelPool pool;
    private final String hostHeader;
    private final AtomicInteger idle = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();

    /** @param sslContext null for plain {@code http://} */
    public HubHttpClient(URI base, SslContext sslContext) {
        this(base, sslContext, null);
    }

    /** Shares {@code group} (not closed by {@link #close()}) when given; otherwise owns a one-thread group. */
    public HubHttpClient(URI base, SslContext sslContext, EventLoopGroup group) {
        this(base, sslContext, group, MAX_IDLE, IDLE_TIMEOUT);
    }

    /**
     * @param maxIdle     how many idle connections the pool keeps for reuse
     * @param idleTimeout how long one of them may stay idle before it is closed
     */
    public HubHttpClient(URI base, SslContext sslContext, EventLoopGroup group, int maxIdle, Duration idleTimeout) {
        boolean tls = "https".equalsIgnoreCase(base.getScheme());
        if (tls && sslContext == null) {
            throw new IllegalArgumentException("https needs a TLS context");
        }
        String host = base.getHost();
        int port = base.getPort() > 0 ? base.getPort() : (tls ? 443 : 80);
        this.hostHeader = base.getPort() > 0 ? host + ":" + port : host;
        this.ownsGroup = group == null;
        this.group = group != null ? group : new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Bootstrap bootstrap = new Bootstrap()
                .group(this.group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .remoteAddress(host, port);
        AbstractChannelPoolHandler handler = new AbstractChannelPoolHandler() {
            @Override
            public void channelCreated(Channel ch) {
                open.incrementAndGet();
                ch.closeFuture().addListener(f -> open.decrementAndGet());
                if (tls) {
                    ch.pipeline().addLast("tls", sslContext.newHandler(ch.alloc(), host, port));
                }
                ch.pipeline().addLast("http", new HttpClientCodec());
                ch.pipeline().addLast("aggregator", new HttpObjectAggregator(MAX_RESPONSE_BYTES));
            }

            @Override
            public void channelReleased(Channel ch) {
                // closed if not reused in time; a closed one still in the pool fails the health check when polled
                ch.attr(IDLE_TIMER).set(ch.eventLoop().schedule(() -> {
                    ch.close();
                }, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
            }

            @Override
            public void channelAcquired(Channel ch) {
                ScheduledFuture<?> timer = ch.attr(IDLE_TIMER).getAndSet(null);
                if (timer != null) {
                    timer.cancel(false);
                }
            }
        };
        this.pool = new SimpleChannelPool(bootstrap, handler) {
            @Override
            protected Channel pollChannel() {
                Channel ch = super.pollChannel();
                if (ch != null) {
                    idle.decrementAndGet();
                }
                return ch;
            }

            @Override
            protected boolean offerChannel(Channel ch) {
                // false: the pool closes the connection instead of keeping it
                if (idle.incrementAndGet() > maxIdle) {
                    idle.decrementAndGet();
                    return false;
                }
                return super.offerChannel(ch);
            }
        };
    }

    /** Connections to the hub open now, in use or idle in the pool. */
    public int openConnections() {
        return open.get();
    }

    /**
     * Sends one request. The future fails with {@link IOException} when the connection fails or closes before the
     * answer, and with {@link TimeoutException} after {@code timeout}.
     *
     * @param pathAndQuery e.g. {@code /devices/d1?api-version=2021-04-12}
     * @param body         null or empty for no body
     */
    public CompletableFuture<HttpResult> send(String method, String pathAndQuery, Map<String, String> headers,
                                              byte[] body, Duration timeout) {
        CompletableFuture<HttpResult> result = new CompletableFuture<>();
        pool.acquire().addListener((Future<Channel> acquired) -> {
            if (!acquired.isSuccess()) {
                result.completeExceptionally(new IOException("cannot connect to " + hostHeader + ": "
                        + acquired.cause().getMessage(), acquired.cause()));
                return;
            }
            exchange(acquired.getNow(), buildRequest(method, pathAndQuery, headers, body), timeout, result);
        });
        return result;
    }

    private FullHttpRequest buildRequest(String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method),
                pathAndQuery, body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        request.headers().set(HttpHeaderNames.HOST, hostHeader);
        request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        request.headers().set(HttpHeaderNames.ACCEPT, "application/json");
        if (headers != null) {
            headers.forEach((name, value) -> request.headers().set(name, value));
        }
        HttpUtil.setContentLength(request, request.content().readableBytes());
        return request;
    }

    private void exchange(Channel ch, FullHttpRequest request, Duration timeout, CompletableFuture<HttpResult> result) {
        ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
            if (result.completeExceptionally(new TimeoutException(request.method() + " " + request.uri()
                    + " got no answer within " + timeout.toMillis() + " ms"))) {
                ch.close();
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        ch.pipeline().addLast(RESPONSE_HANDLER, new SimpleChannelInboundHandler<FullHttpResponse>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
                deadline.cancel(false);
                ctx.pipeline().remove(this);
                byte[] bytes = new byte[response.content().readableBytes()];
                response.content().readBytes(bytes);
                Map<String, String> names = new LinkedHashMap<>();
                response.headers().forEach(h -> names.putIfAbsent(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
                if (HttpUtil.isKeepAlive(response)) {
                    pool.release(ctx.channel());
                } else {
                    ctx.close();
                }
                result.complete(new HttpResult(response.status().code(), names, bytes));
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                deadline.cancel(false);
                result.completeExceptionally(new IOException("connection to " + hostHeader
                        + " closed before the answer to " + request.method() + " " + request.uri()));
                ctx.fireChannelInactive();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                deadline.cancel(false);
                result.completeExceptionally(new IOException(hostHeader + ": " + cause.getMessage(), cause));
                ctx.close();
            }
        });
        ch.writeAndFlush(request).addListener(written -> {
            if (!written.isSuccess()) {
                deadline.cancel(false);
                result.completeExceptionally(new IOException("cannot send to " + hostHeader + ": "
                        + written.cause().getMessage(), written.cause()));
                ch.close();
            }
        });
    }

    @Override
    public void close() {
        pool.close();
        if (ownsGroup) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
