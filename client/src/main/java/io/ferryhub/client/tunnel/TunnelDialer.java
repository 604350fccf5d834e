package io.ferryhub.client.tunnel;

import io.ferryhub.client.stream.ServiceStreamClient;
import io.ferryhub.client.stream.StreamConnector;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The operator side of tunnel sessions: opens a session to a device through one IoT Hub-style stream
 * negotiation (stream name {@value TunnelFrame#SUBPROTOCOL}, WebSocket sub-protocol of the same name), and when
 * the link drops, negotiates new streams with jittered backoff and resumes the session over them.
 */
public final class TunnelDialer {
    private static final Logger log = LoggerFactory.getLogger(TunnelDialer.class);
    private static final long HELLO_TIMEOUT_MILLIS = 10_000;
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    /** The device proxy or the gateway does not speak the tunnel protocol: use one stream per connection. */
    public static final class TunnelUnsupported extends IOException {
        public TunnelUnsupported(String reason) {
            super(reason);
        }
    }

    private final ServiceStreamClient initiator;
    private final StreamConnector connector;
    private final EventLoopGroup group;
    private final String deviceId;
    private final String moduleId;
    private final Duration connectTimeout;
    private final Duration responseTimeout;
    private final TunnelConfig config;

    public TunnelDialer(ServiceStreamClient initiator, StreamConnector connector, EventLoopGroup group,
                        String deviceId, String moduleId, Duration connectTimeout, Duration responseTimeout,
                        TunnelConfig config) {
        this.initiator = initiator;
        this.connector = connector;
        this.group = group;
        this.deviceId = deviceId;
        this.moduleId = moduleId;
        this.connectTimeout = connectTimeout;
        this.responseTimeout = responseTimeout;
        this.config = config;
    }

    /** A new session; fails with {@link TunnelUnsupported} when the device or gateway cannot have one. */
    public CompletableFuture<TunnelSession> open() {
        TunnelSession session = new TunnelSession(TunnelSession.Role.INITIATOR, TunnelSession.newId(), group.next(),
                config, null);
        session.onDetached(() -> reconnect(session, 0));
        return link(session, 0).handle((v, failure) -> {
            if (failure != null) {
                session.execute(() -> session.endNow("could not open: " + rootOf(failure).getMessage()));
                throw new CompletionException(rootOf(failure));
            }
            return session;
        });
    }

    private void reconnect(TunnelSession session, int attempt) {
        if (session.isEnded()) {
            return;
        }
        long delay = attempt == 0 ? 0 : (long) (Math.min(MAX_BACKOFF_MILLIS, 250L << Math.min(attempt, 5))
                * (0.5 + ThreadLocalRandom.current().nextDouble()));
        session.loop().schedule(() -> {
            if (session.isEnded()) {
                return;
            }
            link(session, TunnelFrame.FLAG_RESUME).whenComplete((v, failure) -> {
                if (failure != null && !session.isEnded()) {
                    // Once per series: a hub or gateway restart would otherwise log every attempt.
                    if (attempt == 0) {
                        log.info("{}: resume failed ({}); retrying with backoff (up to {} ms) until the grace "
                                + "period ends", session.name(), rootOf(failure).getMessage(), MAX_BACKOFF_MILLIS);
                    } else {
                        log.debug("{}: resume attempt {} failed: {}", session.name(), attempt + 1,
                                rootOf(failure).getMessage());
                    }
                    reconnect(session, attempt + 1);
                } else if (failure == null && attempt > 0) {
                    log.info("{}: resumed on attempt {}", session.name(), attempt + 1);
                }
            });
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Negotiates a stream, connects its WebSocket and exchanges HELLOs; completes once the link is attached. */
    private CompletableFuture<Void> link(TunnelSession session, int flags) {
        return initiator.initiate(deviceId, moduleId, TunnelFrame.SUBPROTOCOL, connectTimeout, responseTimeout)
                .thenCompose(initiation -> {
                    if (!initiation.accepted()) {
                        throw new CompletionException(new TunnelUnsupported(
                                "the device rejected stream " + TunnelFrame.SUBPROTOCOL));
                    }
                    return connector.connect(initiation.url(), initiation.authToken(), TunnelFrame.SUBPROTOCOL,
                            session.loop());
                })
                .exceptionallyCompose(failure -> {
                    Throwable root = rootOf(failure);
                    if (root instanceof StreamConnector.UpgradeRefused refused
                            && (refused.status() == 400 || refused.status() == 101)) {
                        return CompletableFuture.failedFuture(new TunnelUnsupported(
                                "the gateway does not speak " + TunnelFrame.SUBPROTOCOL));
                    }
                    return CompletableFuture.failedFuture(root);
                })
                .thenCompose(ws -> hello(session, ws, flags));
    }

    private CompletableFuture<Void> hello(TunnelSession session, Channel ws, int flags) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        io.netty.util.concurrent.ScheduledFuture<?> timeout = ws.eventLoop().schedule(() -> {
            done.completeExceptionally(new IOException("no HELLO from the device within " + HELLO_TIMEOUT_MILLIS
                    + " ms"));
            ws.close();
        }, HELLO_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        TunnelLink[] link = new TunnelLink[1];
        link[0] = TunnelLink.install(ws, new TunnelLink.Sink() {
            @Override
            public void frame(Channel ch, ByteBuf frame) {
                timeout.cancel(false);
                try {
                    Hello hello = Hello.parse(frame);
                    if (hello.has(TunnelFrame.FLAG_UNKNOWN_SESSION)) {
                        session.execute(() -> session.endNow("the device no longer has the session"));
                        ch.close();
                        done.completeExceptionally(new IOException("the device no longer has the session"));
                        return;
                    }
                    link[0].sink(session);
                    session.execute(() -> session.attach(ch, hello.received(), false));
                    done.complete(null);
                } catch (IllegalArgumentException e) {
                    ch.close();
                    done.completeExceptionally(new IOException(e.getMessage()));
                } finally {
                    frame.release();
                }
            }

            @Override
            public void closed(Channel ch) {
                timeout.cancel(false);
                done.completeExceptionally(new IOException("the link closed before the device's HELLO"));
            }
        });
        session.execute(() -> ws.writeAndFlush(new BinaryWebSocketFrame(
                TunnelFrame.hello(ws.alloc(), flags, session.id(), session.received()))));
        return done;
    }

    private static Throwable rootOf(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
