package io.ferryhub.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.common.json.Json;
import io.ferryhub.signaling.RevocationFeedToken;
import io.ferryhub.signaling.StreamRevocation;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A stand-alone gateway's subscription to the hub's revocation feed: one WebSocket to the hub, authenticated with
 * the stream token key the gateway already holds, over which the hub pushes each revocation as it happens, so the
 * gateway closes a disabled, deleted or re-keyed identity's streams within a round trip, without polling. When the
 * connection drops it reconnects (backoff up to {@link #MAX_BACKOFF}) naming the last revocation it applied, and
 * the hub sends what it missed; when the hub cannot tell (it restarted, or the gateway is too far behind) the
 * gateway sends the identities it has streams of and the hub revokes those that are disabled or gone.
 *
 * <p>The hub also sends its whole IP filter over the feed, after the hello and on every change; the gateway applies
 * it to its own listener. While the hub is unreachable the gateway keeps the filter it last heard.
 *
 * <p>While the hub is unreachable the gateway keeps relaying the streams it has (a hub outage must not cut every
 * session); new streams still need a token the hub signed, which it no longer issues for a revoked identity.
 */
public final class RevocationFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RevocationFeed.class);
    static final String PATH = "/ferryhub/streamRevocations";
    static final Duration PING = Duration.ofSeconds(5);
    /** Three pings unanswered: the connection is dead even if TCP has not noticed. */
    static final Duration SILENCE = PING.multipliedBy(3);
    /** The longest wait between reconnection attempts: how long after the hub is reachable again a missed
     * revocation may still wait to be applied. */
    public static final long MAX_BACKOFF_MILLIS = 10_000;
    static final Duration MAX_BACKOFF = Duration.ofMillis(MAX_BACKOFF_MILLIS);
    private static final Duration TOKEN_LIFETIME = Duration.ofMinutes(5);

    private final URI hub;
    private final SslContext tls;
    private final byte[] key;
    private final StreamGateway gateway;
    private final EventLoopGroup group;
    private final Clock clock;
    private final Consumer<IpFilterRules> ipFilter;
    private volatile boolean closed;
    private volatile Channel current;
    private volatile boolean connected;
    /** Where the gateway stands in the feed: the hub's epoch and the last revocation applied. */
    private volatile String epoch;
    private volatile long applied;
    private volatile Instant lastHeard;
    private int failures;

    /**
     * @param hub the hub's HTTPS base URL, e.g. {@code https://hub.example:443}
     * @param tls trusts the hub's certificate
     * @param ipFilter applies the hub's IP filter each time the hub sends it
     */
    public RevocationFeed(URI hub, SslContext tls, byte[] key, StreamGateway gateway, EventLoopGroup group,
                          Clock clock, Consumer<IpFilterRules> ipFilter) {
        this.ipFilter = ipFilter;
        this.hub = hub;
        this.tls = tls;
        this.key = key.clone();
        this.gateway = gateway;
        this.group = group;
        this.clock = clock;
        gateway.metrics().sampled("ferryhub_gateway_revocation_feed_connected",
                "1 while the gateway follows the hub's revocation feed", "gauge", () -> connected ? 1 : 0);
        gateway.metrics().sampled("ferryhub_gateway_revocation_feed_silence_seconds",
                "Since the hub's revocation feed was last heard from (how stale revocations may be)", "gauge",
                () -> lastHeard == null ? -1 : Duration.between(lastHeard, clock.instant()).toSeconds());
    }

    public void start() {
        connect();
    }

    public boolean isConnected() {
        return connected;
    }

    /** The last numbered revocation applied. */
    public long applied() {
        return applied;
    }

    private void connect() {
        if (closed) {
            return;
        }
        boolean secure = "https".equalsIgnoreCase(hub.getScheme());
        int port = hub.getPort() > 0 ? hub.getPort() : secure ? 443 : 80;
        String query = "?after=" + applied + (epoch == null ? "" : "&epoch=" + epoch);
        URI ws = URI.create((secure ? "wss://" : "ws://") + hub.getHost() + ":" + port + PATH + query);
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer "
                + RevocationFeedToken.sign(key, clock.instant().plus(TOKEN_LIFETIME)));
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder().webSocketUri(ws)
                .version(WebSocketVersion.V13).customHeaders(headers).maxFramePayloadLength(1 << 20)
                .handshakeTimeoutMillis(10_000).dropPongFrames(false).handleCloseFrames(true).build();
        new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (secure) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), hub.getHost(), port));
                        }
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(64 * 1024));
                        ch.pipeline().addLast("websocket", new WebSocketClientProtocolHandler(config));
                        ch.pipeline().addLast("idle", new IdleStateHandler(SILENCE.toMillis(), PING.toMillis(), 0,
                                TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("feed", new FeedHandler());
                    }
                })
                .connect(hub.getHost(), port)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        retry("cannot connect: " + f.cause().getMessage());
                        return;
                    }
                    current = f.channel();
                    f.channel().closeFuture().addListener(c -> {
                        boolean was = connected;
                        connected = false;
                        retry(was ? "connection lost" : "the hub refused or closed the feed");
                    });
                });
    }

    private synchronized void retry(String why) {
        if (closed) {
            return;
        }
        long delay = Math.min(MAX_BACKOFF.toMillis(), 250L << Math.min(failures, 6));
        if (failures++ == 0) {
            log.warn("revocation feed from {}: {}; retrying every {} s at most (open streams keep running; "
                    + "revocations are applied once it is back)", hub, why, MAX_BACKOFF.toSeconds());
        }
        group.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void onMessage(Channel ch, JsonNode m) {
        switch (m.path("type").asText()) {
            case "hello" -> {
                String hubEpoch = m.path("epoch").asText();
                boolean unknown = m.path("reset").asBoolean() || !hubEpoch.equals(epoch);
                if (unknown) {
                    applied = 0;
                }
                String previous = epoch;
                epoch = hubEpoch;
                connected = true;
                synchronized (this) {
                    failures = 0;
                }
                log.info("revocation feed from {}: following (epoch {}, after {}){}", hub, hubEpoch, applied,
                        unknown && previous != null ? "; the hub cannot replay what was missed: re-checking open "
                                + "streams" : "");
                if (unknown) {
                    check(ch);
                }
            }
            case "revocation" -> {
                StreamRevocation r;
                try {
                    r = StreamRevocation.fromJson(m);
                } catch (RuntimeException e) {
                    log.warn("revocation feed: unreadable message {}", m);
                    return;
                }
                int closedStreams = gateway.revoke(r);
                if (r.sequence() > applied) {
                    applied = r.sequence();
                }
                log.info("revocation {} from the hub: {} ({}); {} stream(s) closed", r.sequence(), r.identity(),
                        r.reason().description(), closedStreams);
            }
            case "ipFilter" -> {
                IpFilterRules rules;
                try {
                    rules = IpFilterRules.fromJson(m);
                } catch (IllegalArgumentException e) {
                    log.warn("revocation feed: unreadable IP filter ({}); keeping the one in force", e.getMessage());
                    return;
                }
                ipFilter.accept(rules);
                log.info("IP filter from the hub: {} rule(s)", rules.rules().size());
            }
            default -> log.debug("revocation feed: ignoring {}", m);
        }
    }

    /**
     * Asks the hub about every identity this gateway has streams of, and every initiator key that asked for them
     * (the hub revokes those no longer valid).
     */
    private void check(Channel ch) {
        Set<String> seen = new HashSet<>();
        ObjectNode request = Json.object().put("type", "check");
        ArrayNode ids = request.putArray("identities");
        ArrayNode initiators = request.putArray("initiatorKeys");
        for (StreamInfo s : gateway.streams()) {
            if (seen.add(s.deviceId() + "/" + s.moduleId())) {
                ids.addObject().put("deviceId", s.deviceId()).put("moduleId", s.moduleId());
            }
            if (s.initiatorKey() != null && seen.add("\0" + s.initiator() + "/" + s.initiatorKey())) {
                initiators.addObject().put("initiator", s.initiator()).put("keyId", s.initiatorKey());
            }
        }
        if (!ids.isEmpty()) {
            ch.writeAndFlush(new TextWebSocketFrame(Json.toString(request)));
        }
    }

    @Override
    public void close() {
        closed = true;
        Channel ch = current;
        if (ch != null) {
            ch.close();
        }
    }

    private final class FeedHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            lastHeard = clock.instant();
            if (frame instanceof TextWebSocketFrame text) {
                try {
                    onMessage(ctx.channel(), Json.parse(text.text()));
                } catch (IllegalArgumentException e) {
                    log.warn("revocation feed: not JSON: {}", e.getMessage());
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent idle) {
                if (idle.state() == IdleState.WRITER_IDLE) {
                    ctx.writeAndFlush(new PingWebSocketFrame());
                } else if (idle.state() == IdleState.READER_IDLE) {
                    log.info("revocation feed from {}: silent for {} s; reconnecting", hub, SILENCE.toSeconds());
                    ctx.close();
                }
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("revocation feed from {} failed", hub, cause);
            ctx.close();
        }
    }
}
