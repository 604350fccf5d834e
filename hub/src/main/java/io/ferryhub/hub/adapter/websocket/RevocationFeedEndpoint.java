package io.ferryhub.hub.adapter.websocket;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.hub.adapter.http.HttpsChannelInitializer;
import io.ferryhub.hub.service.ipfilter.IpFilterService;
import io.ferryhub.hub.service.streams.StreamRevocations;
import io.ferryhub.signaling.DeviceDirectory;
import io.ferryhub.signaling.RevocationFeedToken;
import io.ferryhub.signaling.StreamRevocation;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * The revocation feed stand-alone streaming gateways follow, at {@code /ferryhub/streamRevocations}: one WebSocket
 * per gateway, authenticated with a {@link RevocationFeedToken} (signed with the stream token key the gateway
 * already holds). The query names where the gateway stands ({@code epoch}, {@code after}); the hub answers with a
 * {@code hello} (its epoch, and {@code reset} when the gateway cannot be caught up), what the gateway missed, and
 * then every revocation as it happens, one JSON text message each. After a reset the gateway sends a {@code check}
 * of the identities it has streams of and the initiator keys that asked for them; the hub answers with a revocation
 * for each identity that is disabled or gone and each key that no longer holds.
 *
 * <p>The same feed carries the hub's IP filter ({@code {"type": "ipFilter", "ipFilterRules": [...]}}) after the
 * hello and on every change, so a gateway filters its connections as the hub does: it is the one authenticated,
 * reconnecting hub-to-gateway channel there is, and a gateway that missed changes gets the whole filter again on
 * reconnection (each message carries every rule, so there is nothing to catch up).
 */
public final class RevocationFeedEndpoint implements WebSocketEndpoint {
    public static final String PATH = "/ferryhub/streamRevocations";
    private static final Logger log = LoggerFactory.getLogger(RevocationFeedEndpoint.class);
    /** The gateway pings every few seconds; a feed silent this long is a dead one. */
    private static final int READ_IDLE_SECONDS = 60;

    private final StreamRevocations revocations;
    private final DeviceDirectory directory;
    private final IpFilterService ipFilter;
    private final byte[] key;
    private final Clock clock;
    /** Whether a shared access policy's key (by id) still holds. */
    private final BiPredicate<String, String> initiatorKeys;

    /** @param initiatorKeys whether a shared access policy's key (policy name, key id) still holds */
    public RevocationFeedEndpoint(StreamRevocations revocations, DeviceDirectory directory, IpFilterService ipFilter,
                                  byte[] key, Clock clock, BiPredicate<String, String> initiatorKeys) {
        this.revocations = revocations;
        this.directory = directory;
        this.ipFilter = ipFilter;
        this.key = key.clone();
        this.clock = clock;
        this.initiatorKeys = initiatorKeys;
    }

    @Override
    public boolean matches(String path) {
        return PATH.equals(path);
    }

    @Override
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            accept(ctx, request);
        } finally {
            request.release();
        }
    }

    private void accept(ChannelHandlerContext ctx, FullHttpRequest request) {
        Channel ch = ctx.channel();
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        String bearer = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim() : null;
        try {
            RevocationFeedToken.verify(bearer, key, clock.instant());
        } catch (StreamToken.InvalidTokenException e) {
            log.info("revocation feed connection from {} refused: {}", ch.remoteAddress(), e.getMessage());
            refuse(ch, HttpResponseStatus.UNAUTHORIZED, e.getMessage());
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String epoch = first(query, "epoch");
        long after;
        try {
            String a = first(query, "after");
            after = a == null ? 0 : Long.parseLong(a);
        } catch (NumberFormatException e) {
            refuse(ch, HttpResponseStatus.BAD_REQUEST, "after must be a number");
            return;
        }
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                "wss://" + request.headers().get(HttpHeaderNames.HOST, "hub") + PATH, null, false, 64 * 1024)
                .newHandshaker(request);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ch);
            return;
        }
        if (ctx.pipeline().get(HttpsChannelInitializer.IDLE) != null) {
            ctx.pipeline().remove(HttpsChannelInitializer.IDLE);
        }
        Subscriber subscriber = new Subscriber(ch);
        ctx.pipeline().addLast("feed-idle", new IdleStateHandler(READ_IDLE_SECONDS, 0, 0, TimeUnit.SECONDS));
        ctx.pipeline().addLast("feed", subscriber);
        ctx.pipeline().remove(ctx.handler());
        handshaker.handshake(ch, request).addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                ch.close();
                return;
            }
            StreamRevocations.Catchup catchup = revocations.subscribe(epoch, after, subscriber);
            ch.closeFuture().addListener(f -> revocations.unsubscribe(subscriber));
            log.info("revocation feed to {}: {}", ch.remoteAddress(), catchup.reset()
                    ? "the gateway cannot be caught up (hub restarted or it is too far behind); it re-checks"
                    : catchup.missed().size() + " missed revocation(s) sent, then live");
            send(ch, Json.object().put("type", "hello").put("epoch", catchup.epoch()).put("reset", catchup.reset()));
            catchup.missed().forEach(subscriber);
            Consumer<IpFilterRules> filterListener = subscriber::ipFilter;
            ipFilter.onChange(filterListener);
            ch.closeFuture().addListener(f -> ipFilter.removeListener(filterListener));
        });
    }

    private static String first(QueryStringDecoder query, String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static void send(Channel ch, ObjectNode message) {
        ch.writeAndFlush(new TextWebSocketFrame(Json.toString(message)));
    }

    private static ObjectNode message(StreamRevocation r) {
        ObjectNode m = r.toJson();
        m.put("type", "revocation");
        return m;
    }

    private static void refuse(Channel ch, HttpResponseStatus status, String reason) {
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set(HttpHeaderNames.CONNECTION, "close");
        ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** One gateway's feed: revocations out, pings and checks in. */
    private final class Subscriber extends SimpleChannelInboundHandler<WebSocketFrame>
            implements Consumer<StreamRevocation> {
        private final Channel ch;

        Subscriber(Channel ch) {
            this.ch = ch;
        }

        @Override
        public void accept(StreamRevocation r) {
            if (ch.isActive()) {
                send(ch, message(r));
            }
        }

        /**
         * Sends the filter in force when the event loop gets to it, not the one passed: two changes announced from
         * two threads then cannot reach the gateway in the wrong order (the last message is always the latest).
         */
        void ipFilter(IpFilterRules changed) {
            ch.eventLoop().execute(() -> {
                if (ch.isActive()) {
                    send(ch, Json.object().put("type", "ipFilter").setAll((ObjectNode) ipFilter.rules().toJson()));
                }
            });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof PingWebSocketFrame) {
                ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
            } else if (frame instanceof CloseWebSocketFrame) {
                ctx.writeAndFlush(frame.retainedDuplicate()).addListener(ChannelFutureListener.CLOSE);
            } else if (frame instanceof TextWebSocketFrame text) {
                check(text.text());
            }
        }

        /**
         * The gateway's open identities and initiator keys after a reset: each disabled or gone identity, and each
         * key that no longer holds, is answered by a revocation.
         */
        private void check(String text) {
            JsonNode request;
            try {
                request = Json.parse(text);
            } catch (IllegalArgumentException e) {
                return;
            }
            if (!"check".equals(request.path("type").asText())) {
                return;
            }
            int revoked = 0;
            for (JsonNode id : request.path("identities")) {
                String deviceId = id.path("deviceId").asText(null);
                String moduleId = id.hasNonNull("moduleId") ? id.get("moduleId").asText() : null;
                if (deviceId == null) {
                    continue;
                }
                StreamRevocation.Reason reason = switch (directory.state(deviceId, moduleId)) {
                    case DISABLED -> StreamRevocation.Reason.DISABLED;
                    case DEVICE_NOT_FOUND, MODULE_NOT_FOUND -> StreamRevocation.Reason.DELETED;
                    case ENABLED -> null;
                };
                if (reason != null) {
                    revoked++;
                    accept(new StreamRevocation(0, reason, deviceId, moduleId, null, clock.instant()));
                }
            }
            for (JsonNode k : request.path("initiatorKeys")) {
                String initiator = k.path("initiator").asText(null);
                String keyId = k.path("keyId").asText(null);
                if (initiator != null && keyId != null && !initiatorKeys.test(initiator, keyId)) {
                    revoked++;
                    accept(StreamRevocation.initiatorKeys(0, initiator, Set.of(keyId), clock.instant()));
                }
            }
            log.info("revocation feed to {}: checked {} identities and {} initiator keys, {} revoked",
                    ch.remoteAddress(), request.path("identities").size(), request.path("initiatorKeys").size(),
                    revoked);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                log.info("revocation feed to {}: silent for {} s; closing", ch.remoteAddress(), READ_IDLE_SECONDS);
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("revocation feed to {} failed", ch.remoteAddress(), cause);
            ctx.close();
        }
    }
}
