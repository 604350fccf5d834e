package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * The device side of tunnel sessions: each tunnel WebSocket starts with the initiator's HELLO, which either opens
 * a new session or resumes a waiting one (the session id is the secret that proves it is the same peer, carried
 * only inside the hub-authenticated, TLS-protected stream).
 */
public final class TunnelAcceptor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TunnelAcceptor.class);
    private static final long HELLO_TIMEOUT_MILLIS = 10_000;

    private final TunnelConfig config;
    private final int maxSessions;
    private final BiFunction<String, EventLoop, CompletableFuture<Channel>> connector;
    private final Map<String, TunnelSession> sessions = new ConcurrentHashMap<>();

    /**
     * @param connector connects a channel's target name on the given loop; the channel must not be reading yet
     *                  (auto-read off); fails for names that are not served
     */
    public TunnelAcceptor(TunnelConfig config, int maxSessions,
                          BiFunction<String, EventLoop, CompletableFuture<Channel>> connector) {
        this.config = config;
        this.maxSessions = maxSessions;
        this.connector = connector;
    }

    /** Whether one more session would be admitted (resumes always are). */
    public boolean hasRoom() {
        return sessions.size() < maxSessions;
    }

    public int sessionCount() {
        return sessions.size();
    }

    public int channelCount() {
        return sessions.values().stream().mapToInt(TunnelSession::channelCount).sum();
    }

    /** Closes the gateway connections of every session abruptly, as a network failure would (fault drills). */
    public void dropLinks() {
        sessions.values().forEach(s -> s.execute(s::dropLink));
    }

    /** Takes over a tunnel WebSocket fresh from the gateway (still holding what it read). */
    public void accept(Channel ws) {
        TunnelLink[] link = new TunnelLink[1];
        io.netty.util.concurrent.ScheduledFuture<?> timeout = ws.eventLoop().schedule(() -> {
            log.info("tunnel link {}: no HELLO within {} ms", ws.remoteAddress(), HELLO_TIMEOUT_MILLIS);
            ws.close();
        }, HELLO_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        link[0] = TunnelLink.install(ws, new TunnelLink.Sink() {
            @Override
            public void frame(Channel ch, ByteBuf frame) {
                timeout.cancel(false);
                try {
                    hello(link[0], ch, Hello.parse(frame));
                } catch (IllegalArgumentException e) {
                    log.warn("tunnel link {}: {}", ch.remoteAddress(), e.getMessage());
                    refuse(ch, WebSocketCloseStatus.PROTOCOL_ERROR, e.getMessage());
                } finally {
                    frame.release();
                }
            }

            @Override
            public void closed(Channel ch) {
                timeout.cancel(false);
            }
        });
    }

    private void hello(TunnelLink link, Channel ws, Hello hello) {
        if (hello.version() != TunnelFrame.VERSION) {
            refuse(ws, WebSocketCloseStatus.PROTOCOL_ERROR, "tunnel version " + hello.version() + " not spoken");
            return;
        }
        String key = HexFormat.of().formatHex(hello.sessionId());
        TunnelSession session;
        if (hello.has(TunnelFrame.FLAG_RESUME)) {
            session = sessions.get(key);
            if (session == null) {
                log.info("tunnel link {}: resume of an unknown (expired) session refused", ws.remoteAddress());
                ws.write(new BinaryWebSocketFrame(TunnelFrame.hello(ws.alloc(), TunnelFrame.FLAG_UNKNOWN_SESSION,
                        hello.sessionId(), 0)));
                refuse(ws, WebSocketCloseStatus.NORMAL_CLOSURE, "unknown session");
                return;
            }
        } else {
            if (sessions.containsKey(key) || !hasRoom()) {
                refuse(ws, WebSocketCloseStatus.POLICY_VIOLATION, "too many tunnel sessions");
                return;
            }
            session = new TunnelSession(TunnelSession.Role.ACCEPTOR, hello.sessionId(), ws.eventLoop(), config,
                    connector);
            sessions.put(key, session);
            session.ended().thenRun(() -> sessions.remove(key, session));
        }
        link.sink(session);
        session.execute(() -> session.attach(ws, hello.received(), true));
    }

    private static void refuse(Channel ws, WebSocketCloseStatus status, String reason) {
        ws.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void close() {
        CompletableFuture<?>[] ends = List.copyOf(sessions.values()).stream()
                .map(s -> s.end("device proxy stopping")).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(ends).get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("tunnel sessions did not all close in time", e);
        }
    }
}
