package io.ferryhub.gateway;

import io.ferryhub.common.metrics.Metrics;
import io.ferryhub.common.relay.HoldingHandler;
import io.ferryhub.common.relay.LoopMove;
import io.ferryhub.common.relay.Relay;
import io.ferryhub.common.relay.RelayEnd;
import io.ferryhub.common.relay.RelaySession;
import io.ferryhub.common.websocket.FinalClose;
import io.ferryhub.signaling.BridgePath;
import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamRevocation;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The streaming gateway: accepts the two WebSocket ends of each stream at {@code /bridges/...}, checks their bearer
 * token before completing the handshake, pairs them by stream id and relays bytes between them. Runs inside the
 * hub's HTTPS server or behind its own listener ({@link StandaloneGateway}); either way the HTTP pipeline hands it
 * an upgrade request and it takes the connection over.
 */
public final class StreamGateway {
    private static final Logger log = LoggerFactory.getLogger(StreamGateway.class);

    /**
     * The multiplexed tunnel mode (many connections over one stream). The gateway only selects it for an end that
     * offers it and pairs such an end only with another that did: the tunnel frames pass through unchanged, since
     * the protocol is spoken end to end by the proxies.
     */
    public static final String TUNNEL_SUBPROTOCOL = "ferryhub.tunnel.v1";

    private final GatewayConfig config;
    private final Clock clock;
    /** Every stream whose token is still presentable, including closed ones, so a token is never used twice. */
    private final Map<String, Bridge> bridges = new HashMap<>();
    private final Map<String, Integer> openPerIdentity = new HashMap<>();
    /**
     * Streams whose tokens a revocation withdrew before both ends had connected, until those tokens have surely
     * expired (a token lives through the device's answer, at most 60 s, and the handshake window, which the hub
     * may have set longer than this gateway's: hence the margin).
     */
    private final Map<String, Instant> revokedStreams = new HashMap<>();
    /**
     * Initiator keys ("policy/keyId") that stopped holding, as long as a token they signed may still be presented:
     * such a token is refused, whatever stream it names.
     */
    private final Map<String, Instant> revokedInitiatorKeys = new HashMap<>();
    private static final Duration REVOKED_TOKEN_MEMORY = Duration.ofMinutes(15);
    private static final String REVOKED_REFUSAL = "the stream's token was revoked";
    private int open;
    private volatile Consumer<StreamAuditEvent> audit = e -> { };
    private volatile BandwidthCaps caps = BandwidthCaps.none();
    private volatile StreamRecordings recordings;
    /** Streams whose tokens were used before this gateway started (null: only this process's memory). */
    private volatile UsedStreamTokens usedTokens;
    private final TunnelWatches tunnels;
    private final Metrics metrics = new Metrics();
    private final Metrics.Counter streamsOpened = metrics.counter("ferryhub_gateway_streams_opened_total",
            "Streams whose two ends were joined, by mode (stream, tunnel) and the shared access policy that "
                    + "initiated them", "mode", "policy");
    private final Metrics.Counter streamsClosed = metrics.counter("ferryhub_gateway_streams_closed_total",
            "Streams ended (joined or not), by reason", "reason");
    private final Metrics.Counter refused = metrics.counter("ferryhub_gateway_connections_refused_total",
            "Stream connections refused before the WebSocket handshake, by HTTP status", "status");
    private final Metrics.Histogram pairing = metrics.histogram("ferryhub_gateway_stream_pairing_seconds",
            "From a stream's first end connecting to its second end joining", 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
    private final Metrics.Counter channels = metrics.counter("ferryhub_gateway_tunnel_channels_total",
            "Tunnel channel events: opened, closed, denied", "event");
    private final Metrics.Counter channelsDenied = metrics.counter("ferryhub_gateway_tunnel_channels_denied_total",
            "Tunnel channels refused by the stream policy, by the check that failed", "check");
    /** Bytes of streams that have ended, per direction; open streams' bytes are added at scrape time. */
    private final AtomicLong[] endedBytes = {new AtomicLong(), new AtomicLong()};
    private volatile Consumer<ChannelAuditEvent> channelAudit = e -> { };

    /** @param clock token expiry and stream policy hours are judged on it */
    public StreamGateway(GatewayConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.tunnels = new TunnelWatches(clock, this::channelEvent);
        metrics.sampled("ferryhub_gateway_streams_active", "Streams waiting for their second end or relaying",
                "gauge", this::openCount);
        metrics.sampled("ferryhub_gateway_tunnel_channels_active", "Tunnel channels open now", "gauge",
                tunnels::openChannels);
        metrics.sampled("ferryhub_gateway_stream_bytes_total", "Bytes relayed, by direction between the end that "
                + "connected first and the other", "counter", "direction", this::bytesRelayed);
        metrics.sampled("ferryhub_gateway_recording_queued_bytes", "Bytes relayed by recorded streams and not yet "
                + "written to their recordings (each stream is held back past a few MiB)", "gauge", () -> {
                    StreamRecordings r = recordings;
                    return r == null ? 0 : r.queuedBytes();
                });
    }

    /** The gateway's metrics (Prometheus text format): a hub includes them in its own. */
    public Metrics metrics() {
        return metrics;
    }

    private synchronized Map<String, Long> bytesRelayed() {
        long firstToSecond = endedBytes[0].get();
        long secondToFirst = endedBytes[1].get();
        for (Bridge b : bridges.values()) {
            RelaySession s = b.session;
            if (s != null && b.state != Bridge.State.CLOSED) {
                firstToSecond += s.bytesAtoB();
                secondToFirst += s.bytesBtoA();
            }
        }
        return Map.of("first_to_second", firstToSecond, "second_to_first", secondToFirst);
    }

    private void channelEvent(ChannelAuditEvent e) {
        channels.inc(e.kind() == ChannelAuditEvent.Kind.channelOpened ? "opened"
                : e.kind() == ChannelAuditEvent.Kind.channelClosed ? "closed" : "denied");
        if (e.kind() == ChannelAuditEvent.Kind.channelDenied) {
            channelsDenied.inc(e.reason().substring(0, Math.max(0, e.reason().indexOf(':'))));
        }
        channelAudit.accept(e);
    }

    /**
     * Receives an event when a tunnel channel opens, closes or is denied (called on an event loop: must not
     * block).
     */
    public void onChannelAudit(Consumer<ChannelAuditEvent> listener) {
        this.channelAudit = listener;
    }


    /** Receives an event when each stream is joined and when it ends (called on an event loop: must not block). */
    public void onAudit(Consumer<StreamAuditEvent> listener) {
        this.audit = listener;
    }

    /** Records streams from now on as {@code recordings} says; null records nothing. */
    public void recordings(StreamRecordings recordings) {
        this.recordings = recordings;
    }

    /**
     * Keeps the ids of streams whose tokens are used in {@code used} as well as in memory, so that a token is refused
     * after a restart of the gateway as it is before (call before the gateway takes connections).
     */
    public void rememberUsedTokens(UsedStreamTokens used) {
        this.usedTokens = used;
    }

    /** Caps the bandwidth of the streams joined from now on. */
    public void bandwidthCaps(BandwidthCaps caps) {
        this.caps = caps;
    }

    public boolean matches(String path) {
        return path.startsWith(BridgePath.PREFIX);
    }

    /**
     * Takes over a connection whose HTTP request asks for a WebSocket upgrade to a bridge path. Refuses it with an
     * HTTP error (401 bad token, 404 unknown path, 409 stream already paired, 429 over a limit) or completes the
     * handshake and pairs it. Owns (releases) the request; call on the channel's event loop.
     */
    public void upgrade(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            accept(ctx, request);
        } finally {
            request.release();
        }
    }

    private void accept(ChannelHandlerContext ctx, FullHttpRequest request) {
        String remote = String.valueOf(ctx.channel().remoteAddress());
        String path;
        try {
            path = pathOf(request.uri());
        } catch (IllegalArgumentException e) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request target", "?", remote);
            return;
        }
        StreamToken token;
        try {
            token = StreamToken.verify(bearer(request), config.tokenKey(), clock.instant());
        } catch (StreamToken.InvalidTokenException e) {
            refuse(ctx, HttpResponseStatus.UNAUTHORIZED, e.getMessage(), path, remote);
            return;
        }
        if (!BridgePath.of(token).equals(path)) {
            refuse(ctx, HttpResponseStatus.UNAUTHORIZED, "the token is for another stream", path, remote);
            return;
        }
        String offered = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        boolean tunnel = offered != null && Arrays.stream(offered.split(",")).map(String::trim)
                .anyMatch(TUNNEL_SUBPROTOCOL::equals);
        Admission admission = admit(token);
        if (REVOKED_REFUSAL.equals(admission.refusal())) {
            // as IoT Hub refuses a credential that no longer holds
            refuse(ctx, HttpResponseStatus.UNAUTHORIZED, admission.refusal(), path, remote);
            return;
        }
        if (admission.refusal() != null) {
            refuse(ctx, admission.refusal().startsWith("too many") ? HttpResponseStatus.TOO_MANY_REQUESTS
                    : HttpResponseStatus.CONFLICT, admission.refusal(), path, remote);
            return;
        }
        if (admission.firstEnd() && !rememberUse(token)) {
            release(token);
            refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "the gateway cannot record the token's use", path,
                    remote);
            return;
        }
        handshake(ctx, request, token, path, tunnel);
    }

    /** Why a connection is refused (null: it has a place), and whether it is its stream's first end. */
    private record Admission(String refusal, boolean firstEnd) {
        static Admission refused(String reason) {
            return new Admission(reason, false);
        }
    }

    /** Reserves a place for this connection, or says why there is none. */
    private synchronized Admission admit(StreamToken token) {
        Instant revokedUntil = revokedStreams.get(token.streamId());
        if (revokedUntil != null && clock.instant().isBefore(revokedUntil)) {
            return Admission.refused(REVOKED_REFUSAL);
        }
        Instant keyRevokedUntil = token.initiatorKey() == null ? null
                : revokedInitiatorKeys.get(token.initiator() + "/" + token.initiatorKey());
        if (keyRevokedUntil != null && clock.instant().isBefore(keyRevokedUntil)) {
            return Admission.refused(REVOKED_REFUSAL);
        }
        Bridge bridge = bridges.get(token.streamId());
        if (bridge == null && usedTokens != null && usedTokens.contains(token.streamId())) {
            // used before a restart: refused as it would have been without one
            return Admission.refused(alreadyUsed(token));
        }
        if (bridge != null) {
            if (bridge.state != Bridge.State.WAITING || bridge.ends >= 2) {
                return Admission.refused(alreadyUsed(token));
            }
            if (token.side() != null && !bridge.sides.add(token.side())) {
                // so "device" and "service" in the stream's recording are what they say
                return Admission.refused("stream " + token.streamId() + " already has its " + token.side().label()
                        + " end");
            }
            bridge.ends++;
            return new Admission(null, false);
        }
        String identity = identityOf(token);
        if (open >= config.maxStreams()) {
            return Admission.refused("too many streams on this gateway (" + config.maxStreams() + ")");
        }
        if (openPerIdentity.getOrDefault(identity, 0) >= config.maxStreamsPerDevice()) {
            return Admission.refused("too many streams to " + identity + " (" + config.maxStreamsPerDevice() + ")");
        }
        Bridge created = new Bridge(token);
        if (token.side() != null) {
            created.sides.add(token.side());
        }
        bridges.put(token.streamId(), created);
        open++;
        openPerIdentity.merge(identity, 1, Integer::sum);
        return new Admission(null, true);
    }

    private static String alreadyUsed(StreamToken token) {
        return "stream " + token.streamId() + " already has both ends (or has ended)";
    }

    /**
     * Records on disk that the stream's token was used, before its first end is let in; the fsync (a stream's
     * first end is rare next to its bytes) runs on this event loop, outside the gateway's lock.
     */
    private boolean rememberUse(StreamToken token) {
        UsedStreamTokens used = usedTokens;
        if (used == null) {
            return true;
        }
        try {
            used.add(token.streamId(), token.expiry());
            return true;
        } catch (IOException e) {
            log.error("stream {}: cannot record that its token was used, refusing it: {}", token.streamId(),
                    e.toString());
            return false;
        }
    }

    private void handshake(ChannelHandlerContext ctx, FullHttpRequest request, StreamToken token, String path,
                           boolean tunnel) {
        Channel ch = ctx.channel();
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                "wss://" + request.headers().get(HttpHeaderNames.HOST, "gateway") + path,
                tunnel ? TUNNEL_SUBPROTOCOL : null,
                WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(config.maxFramePayload())
                        .allowExtensions(false).build());
        WebSocketServerHandshaker handshaker = factory.newHandshaker(request);
        if (handshaker == null) {
            release(token);
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ch);
            return;
        }
        // Until paired, data is held (bounded) for the relay; control frames are answered meanwhile.
        if (tunnel) {
            // whole messages, so a tunnel frame cannot slip past the inspector in fragments
            ch.pipeline().addLast("ws-aggregate", new WebSocketFrameAggregator(config.maxFramePayload()));
        }
        ch.pipeline().addLast("ws-control", new WebSocketControlHandler());
        if (tunnel) {
            TunnelInspector.Link link = tunnelLink(token);
            if (link != null) {
                ch.pipeline().addLast(TunnelInspector.NAME, new TunnelInspector(link, link.newEnd(ch)));
            }
        }
        ch.pipeline().addLast(HoldingHandler.NAME, new HoldingHandler());
        ch.pipeline().remove(ctx.handler());
        ChannelFuture handshake;
        try {
            handshake = handshaker.handshake(ch, request);
        } catch (RuntimeException e) {
            // e.g. no Sec-WebSocket-Key: not a WebSocket request after all
            release(token);
            refuse(ch, HttpResponseStatus.BAD_REQUEST, "malformed WebSocket upgrade: " + e.getMessage(), path,
                    String.valueOf(ch.remoteAddress()));
            return;
        }
        handshake.addListener((ChannelFutureListener) done -> {
            if (!done.isSuccess()) {
                log.info("stream {}: WebSocket handshake with {} failed: {}", token.streamId(), ch.remoteAddress(),
                        done.cause().toString());
                release(token);
                ch.close();
                return;
            }
            pair(token, ch, tunnel);
        });
    }

    private synchronized TunnelInspector.Link tunnelLink(StreamToken token) {
        Bridge bridge = bridges.get(token.streamId());
        if (bridge == null) {
            return null;
        }
        if (bridge.link == null) {
            bridge.link = new TunnelInspector.Link(token, tunnels, clock);
        }
        return bridge.link;
    }

    private void pair(StreamToken token, Channel ch, boolean tunnel) {
        Bridge bridge;
        Channel first;
        boolean mismatch = false;
        WebSocketCloseStatus ended = null;
        synchronized (this) {
            bridge = bridges.get(token.streamId());
            if (bridge == null || bridge.state != Bridge.State.WAITING) {
                first = null;
                ended = bridge == null ? null : bridge.finalClose;
            } else if (bridge.first == null) {
                bridge.first = ch;
                bridge.firstSide = token.side();
                bridge.tunnel = tunnel;
                StreamRecordings r = recordings;
                bridge.recordings = r;
                bridge.recorder = r == null ? null : r.recorderFor(token, tunnel);
                if (bridge.recorder != null) {
                    // before the holding handler: what arrives before the other end connects is recorded too
                    ch.pipeline().addBefore(HoldingHandler.NAME, StreamRecorder.NAME,
                            bridge.recorder.handler(StreamRecording.FIRST_TO_SECOND));
                }
                bridge.handshakeTimer = ch.eventLoop().schedule(() -> handshakeExpired(bridge),
                        config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
                ch.closeFuture().addListener(f -> firstLeftEarly(bridge));
                log.debug("stream {}: first end connected from {}", token.streamId(), ch.remoteAddress());
                return;
            } else {
                first = bridge.first;
                bridge.state = Bridge.State.RELAYING;
                bridge.handshakeTimer.cancel(false);
                mismatch = bridge.tunnel != tunnel;
            }
        }
        if (first == null) {
            if (ended != null) {
                closeWebSocket(ch, ended); // closed for good before this end arrived: told so, as the first was
            } else {
                closeWebSocket(ch, WebSocketCloseStatus.POLICY_VIOLATION, "stream already ended");
            }
            return;
        }
        if (mismatch) {
            // One end would read tunnel frames as raw bytes: refuse rather than corrupt.
            ended(bridge, "only one end speaks " + TUNNEL_SUBPROTOCOL);
            closeWebSocket(first, WebSocketCloseStatus.POLICY_VIOLATION, "only one end speaks " + TUNNEL_SUBPROTOCOL);
            closeWebSocket(ch, WebSocketCloseStatus.POLICY_VIOLATION, "only one end speaks " + TUNNEL_SUBPROTOCOL);
            return;
        }
        if (bridge.recorder != null) {
            // before the move: what this end sent since its handshake is recorded too
            ch.pipeline().addBefore(HoldingHandler.NAME, StreamRecorder.NAME,
                    bridge.recorder.handler(StreamRecording.SECOND_TO_FIRST));
        }
        // The two ends were accepted on loops of their own: the second joins the first's, so the relay between
        // them runs on one thread instead of handing every read batch to the other loop (a wake-up each way).
        LoopMove.onto(ch, first.eventLoop(), () -> join(bridge, token, first, ch, tunnel), () -> {
            ended(bridge, "the second end could not be registered");
            closeWebSocket(first, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "the other end was lost");
        });
    }

    private void join(Bridge bridge, StreamToken token, Channel first, Channel ch, boolean tunnel) {
        pairing.observe(Duration.between(bridge.opened, Instant.now()).toNanos() / 1e9);
        streamsOpened.inc(tunnel ? "tunnel" : "stream", token.initiator());
        caps.apply(bridge.identity(), first, ch);
        RelaySession session = Relay.join("first", first, RelayEnd.WEBSOCKET, "second", ch, RelayEnd.WEBSOCKET,
                config.idleTimeout());
        WebSocketCloseStatus closedForGood;
        synchronized (this) {
            bridge.session = session;
            bridge.second = ch;
            closedForGood = bridge.finalClose;
        }
        if (closedForGood != null) {
            // closed for good while the two ends were being joined: the second end learns it too
            session.close(closedForGood.reasonText(), closedForGood);
        }
        log.info("stream {} '{}' of {} open (initiated by {}){}", token.streamId(), token.streamName(),
                bridge.identity(), token.initiator(), tunnel ? ", tunnel session" : "");
        report(bridge, StreamAuditEvent.Kind.streamOpened, null);
        session.closed().thenAccept(reason -> ended(bridge, reason));
    }

    private void report(Bridge bridge, StreamAuditEvent.Kind kind, String reason) {
        RelaySession s = bridge.session;
        StreamToken t = bridge.token;
        try {
            audit.accept(new StreamAuditEvent(kind, t.streamId(), t.hubName(), t.deviceId(), t.moduleId(),
                    t.streamName(), t.initiator(), bridge.tunnel, bridge.opened,
                    kind == StreamAuditEvent.Kind.streamClosed ? Instant.now() : null, reason, bridge.firstSide,
                    s == null ? 0 : s.bytesAtoB(), s == null ? 0 : s.bytesBtoA()));
        } catch (RuntimeException e) {
            log.warn("stream {}: audit listener failed", t.streamId(), e);
        }
    }

    private void handshakeExpired(Bridge bridge) {
        Channel first;
        synchronized (this) {
            if (bridge.state != Bridge.State.WAITING) {
                return;
            }
            first = bridge.first;
        }
        ended(bridge, "the other end did not connect within " + config.handshakeTimeout().toMillis() + " ms");
        closeWebSocket(first, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "the other end did not connect");
    }

    private void firstLeftEarly(Bridge bridge) {
        synchronized (this) {
            if (bridge.state != Bridge.State.WAITING) {
                return;
            }
            bridge.handshakeTimer.cancel(false);
        }
        ended(bridge, "closed before the other end connected");
    }

    private void ended(Bridge bridge, String reason) {
        synchronized (this) {
            if (bridge.state == Bridge.State.CLOSED) {
                return;
            }
            bridge.state = Bridge.State.CLOSED;
            decrement(bridge.token);
            if (bridge.session != null) {
                endedBytes[0].addAndGet(bridge.session.bytesAtoB());
                endedBytes[1].addAndGet(bridge.session.bytesBtoA());
            }
        }
        streamsClosed.inc(closeReasonLabel(reason));
        RelaySession s = bridge.session;
        log.info("stream {} '{}' of {} (initiated by {}) closed: {}; bytes first->second {}, second->first {}, "
                + "{} ms", bridge.token.streamId(), bridge.token.streamName(), bridge.identity(),
                bridge.token.initiator(), reason,
                s == null ? 0 : s.bytesAtoB(), s == null ? 0 : s.bytesBtoA(),
                Duration.between(bridge.opened, Instant.now()).toMillis());
        if (bridge.session != null) {
            report(bridge, StreamAuditEvent.Kind.streamClosed, reason);
        }
        if (bridge.link != null && bridge.first != null) {
            bridge.link.ended(bridge.first.eventLoop());
        }
        if (bridge.recorder != null) {
            bridge.recordings.finished(bridge.recorder);
        }
        forgetAtExpiry(bridge);
    }

    /** The record stays until the token expires, so a captured token cannot open the stream again. */
    private void forgetAtExpiry(Bridge bridge) {
        long delay = Math.max(0, Duration.between(clock.instant(), bridge.token.expiry()).toMillis());
        Channel any = bridge.first;
        Runnable forget = () -> {
            synchronized (this) {
                bridges.remove(bridge.token.streamId(), bridge);
            }
        };
        if (any != null) {
            any.eventLoop().schedule(forget, delay, TimeUnit.MILLISECONDS);
        } else {
            forget.run();
        }
    }

    /** A small fixed set of labels for the reasons streams end, so metrics stay bounded. */
    static String closeReasonLabel(String reason) {
        if (reason.equals("idle")) {
            return "idle";
        }
        if (reason.startsWith("closed by ")) {
            return "operator";
        }
        if (reason.startsWith("revoked: ")) {
            return "revoked";
        }
        if (reason.startsWith("the other end did not connect")) {
            return "handshake_timeout";
        }
        if (reason.startsWith("closed before the other end")) {
            return "abandoned";
        }
        if (reason.startsWith("only one end speaks")) {
            return "protocol_mismatch";
        }
        return reason.contains(" failed") ? "error" : "end_closed";
    }

    /** Frees a reservation whose connection never became an end of the stream. */
    private void release(StreamToken token) {
        synchronized (this) {
            Bridge bridge = bridges.get(token.streamId());
            if (bridge == null || bridge.state != Bridge.State.WAITING) {
                return;
            }
            if (token.side() != null) {
                bridge.sides.remove(token.side());
            }
            if (--bridge.ends > 0) {
                return;
            }
            bridges.remove(token.streamId());
            decrement(bridge.token);
        }
    }

    private void decrement(StreamToken token) {
        open--;
        openPerIdentity.computeIfPresent(identityOf(token), (k, n) -> n <= 1 ? null : n - 1);
    }

    /** The streams waiting for their second end or relaying. */
    public synchronized List<StreamInfo> streams() {
        List<StreamInfo> out = new ArrayList<>();
        for (Bridge b : bridges.values()) {
            if (b.state != Bridge.State.CLOSED && b.first != null) {
                out.add(b.info());
            }
        }
        return out;
    }

    /** Whether a relaying stream's two ends run on one event loop (as {@link LoopMove} makes them). */
    synchronized boolean endsShareALoop(String streamId) {
        Bridge bridge = bridges.get(streamId);
        return bridge != null && bridge.second != null && bridge.first.eventLoop() == bridge.second.eventLoop();
    }

    public synchronized Optional<StreamInfo> stream(String streamId) {
        Bridge b = bridges.get(streamId);
        return b == null || b.state == Bridge.State.CLOSED || b.first == null ? Optional.empty()
                : Optional.of(b.info());
    }

    /**
     * Closes a stream (both ends) for good: the ends are told so ({@link FinalClose#CLOSED_BY_OPERATOR}), and proxies end
     * a tunnel session carried by it instead of resuming it. False if there is no such open stream.
     */
    public boolean close(String streamId, String reason) {
        Bridge bridge;
        synchronized (this) {
            bridge = bridges.get(streamId);
            if (bridge == null || bridge.state == Bridge.State.CLOSED || bridge.first == null) {
                return false;
            }
        }
        closeForGood(bridge, FinalClose.CLOSED_BY_OPERATOR, reason);
        return true;
    }

    /**
     * Makes the open streams of an identity follow a decision of the hub: a disabled, deleted or re-keyed
     * identity's streams (a device's include its modules') are closed for good at once, both ends, with
     * {@link FinalClose#REVOKED} so that no proxy resumes them; after a stream policy change, a stream the new
     * policy denies is closed the same way and the tunnel channels it denies are revoked. When an initiating
     * policy's key stops holding, the streams that key asked for close the same way, whatever their device, and its
     * tokens are refused from then on. Any thread.
     *
     * @return how many streams were closed
     */
    public int revoke(StreamRevocation revocation) {
        List<Bridge> covered = new ArrayList<>();
        synchronized (this) {
            Instant until = clock.instant().plus(REVOKED_TOKEN_MEMORY.plus(config.handshakeTimeout()));
            if (!revocation.issued().isEmpty()) {
                revocation.issued().forEach(id -> revokedStreams.put(id, until));
                revokedStreams.values().removeIf(t -> t.isBefore(clock.instant()));
            }
            if (revocation.reason() == StreamRevocation.Reason.INITIATOR_KEY_REVOKED) {
                revocation.initiatorKeys().forEach(k -> revokedInitiatorKeys.put(revocation.initiator() + "/" + k,
                        until));
                revokedInitiatorKeys.values().removeIf(t -> t.isBefore(clock.instant()));
            }
            for (Bridge b : bridges.values()) {
                if (b.state != Bridge.State.CLOSED && b.first != null && revocation.covers(b.token)) {
                    covered.add(b);
                }
            }
        }
        int closed = 0;
        for (Bridge b : covered) {
            if (revocation.reason() != StreamRevocation.Reason.POLICY_CHANGED) {
                closeForGood(b, FinalClose.REVOKED, "revoked: " + revocation.reason().description());
                closed++;
                continue;
            }
            StreamToken t = b.token;
            StreamPolicy policy = revocation.policy();
            StreamPolicy.Denial denial = policy == null ? null
                    : policy.checkStream(t.initiator(), t.streamName(), clock.instant());
            if (denial != null) {
                closeForGood(b, FinalClose.REVOKED, "revoked: the stream policy changed: " + denial.message());
                closed++;
            } else if (b.link != null) {
                b.link.policyChanged(policy == null ? null : policy.narrowTo(t.initiator(), t.streamName()));
            }
        }
        if (!covered.isEmpty()) {
            log.info("{} ({}): {} open stream(s) of it, {} closed", revocation.identity(),
                    revocation.reason().description(), covered.size(), closed);
        }
        return closed;
    }

    /**
     * Closes the device and service ends both with {@code code}, a close the proxies take as final (no tunnel
     * resume): an operator's close or a revocation. An end still being joined gets the same status.
     */
    private void closeForGood(Bridge bridge, int code, String reason) {
        WebSocketCloseStatus status = FinalClose.status(code, reason);
        if (code == FinalClose.REVOKED && bridge.link != null) {
            bridge.link.revoked(reason);
        }
        RelaySession s;
        synchronized (this) {
            s = bridge.session;
            if (s == null) {
                bridge.finalClose = status;
            }
        }
        if (s != null) {
            s.close(reason, status);
        } else {
            ended(bridge, reason);
            closeWebSocket(bridge.first, status);
        }
    }

    /** Streams counted against the limits: waiting or relaying. */
    public synchronized int openCount() {
        return open;
    }

    private static String identityOf(StreamToken token) {
        return token.moduleId() == null ? token.deviceId() : token.deviceId() + "/" + token.moduleId();
    }

    private static void closeWebSocket(Channel ch, WebSocketCloseStatus status, String reason) {
        closeWebSocket(ch, new WebSocketCloseStatus(status.code(), reason));
    }

    private static void closeWebSocket(Channel ch, WebSocketCloseStatus status) {
        ch.writeAndFlush(new CloseWebSocketFrame(status)).addListener(ChannelFutureListener.CLOSE);
    }

    private static String bearer(FullHttpRequest request) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null) {
            return null;
        }
        return header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    }

    private static String pathOf(String uri) {
        String path = uri.startsWith("/") ? uri : URI.create(uri).getRawPath();
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String reason, String path,
                        String remote) {
        refuse(ctx.channel(), status, reason, path, remote);
    }

    private void refuse(Channel ch, HttpResponseStatus status, String reason, String path, String remote) {
        log.info("stream connection from {} to {} refused ({}): {}", remote, path, status.code(), reason);
        refused.inc(Integer.toString(status.code()));
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(reason + "\n", StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set(HttpHeaderNames.CONNECTION, "close");
        // a WebSocket client's handshake error keeps the headers, not the body: the reason goes in both
        response.headers().set("ferryhub-reason", reason.replaceAll("[^\\x20-\\x7e]", "?"));
        ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
