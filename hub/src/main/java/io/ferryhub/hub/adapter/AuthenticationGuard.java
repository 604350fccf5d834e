package io.ferryhub.hub.adapter;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hub-wide rules for connections that have not authenticated yet, whatever their protocol (MQTT, AMQP) and
 * transport (TLS listener, WebSocket): each must authenticate within one deadline, and one remote address may hold
 * only so many of them at once over all listeners. An unauthenticated connection costs the hub memory (TLS, protocol
 * state) while it has proved nothing; these bounds keep a peer without credentials from holding that memory.
 *
 * <p>Addresses are cheap to an attacker (a whole IPv6 prefix, a botnet), so the hub also bounds the unauthenticated
 * connections of all addresses together ({@link #DEFAULT_MAX_TOTAL}): past it new connections are closed at once,
 * while authenticated ones are never affected.
 *
 * <p>A protocol adds {@link #newHandler} in front of its own handlers and calls {@link #authenticated} once the
 * connection has an identity; at the deadline the protocol's handlers see {@link AuthenticationTimeout} (AMQP tells
 * the peer why), then the channel is closed.
 */
public final class AuthenticationGuard {
    static final AttributeKey<AuthenticationDeadline> DEADLINE = AttributeKey.valueOf("ferryhub.authDeadline");
    public static final String HANDLER_NAME = "authDeadline";

    /** Fired through the pipeline when the deadline passes unauthenticated, just before the channel is closed. */
    public enum AuthenticationTimeout { INSTANCE }

    /**
     * Unauthenticated connections of all addresses together. A legitimate client authenticates within milliseconds
     * of its TLS handshake, so even a reconnect storm of many thousand devices holds far fewer at once; an AMQP
     * connection may hold about 1.5 MB before it authenticates, so this keeps that memory under about 1.5 GB.
     */
    public static final int DEFAULT_MAX_TOTAL = 1024;

    private final Duration timeout;
    private final int maxPerAddress;
    private final int maxTotal;
    private final ConcurrentHashMap<InetAddress, Integer> unauthenticated = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();

    public AuthenticationGuard(Duration timeout, int maxPerAddress) {
        this(timeout, maxPerAddress, Math.max(DEFAULT_MAX_TOTAL, maxPerAddress));
    }

    public AuthenticationGuard(Duration timeout, int maxPerAddress, int maxTotal) {
        if (timeout.isZero() || timeout.isNegative() || maxPerAddress < 1 || maxTotal < 1) {
            throw new IllegalArgumentException("the authentication timeout and the connection bounds must be positive");
        }
        this.timeout = timeout;
        this.maxPerAddress = maxPerAddress;
        this.maxTotal = maxTotal;
    }

    public Duration timeout() {
        return timeout;
    }

    public int maxPerAddress() {
        return maxPerAddress;
    }

    /** Adds the deadline of one connection at the end of {@code pipeline}, in front of the protocol's handlers. */
    public void addTo(ChannelPipeline pipeline, String transport) {
        pipeline.addLast(HANDLER_NAME, new AuthenticationDeadline(this, transport));
    }

    /** The connection has an identity: its deadline is lifted and it no longer counts against its address. */
    public static void authenticated(Channel channel) {
        AuthenticationDeadline deadline = channel.attr(DEADLINE).get();
        if (deadline != null) {
            if (channel.eventLoop().inEventLoop()) {
                deadline.authenticated();
            } else {
                channel.eventLoop().execute(deadline::authenticated);
            }
        }
    }

    public int maxTotal() {
        return maxTotal;
    }

    /** Unauthenticated connections from {@code address} right now (for metrics and tests). */
    public int unauthenticated(InetAddress address) {
        return unauthenticated.getOrDefault(address, 0);
    }

    /** Unauthenticated connections of all addresses right now. */
    public int unauthenticatedTotal() {
        return total.get();
    }

    /**
     * Counts one more unauthenticated connection from the address; false (and nothing counted) when the address or
     * the hub as a whole is at its bound.
     */
    boolean acquire(InetAddress address) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return false;
        }
        boolean[] admitted = new boolean[1];
        unauthenticated.compute(address, (a, n) -> {
            int count = n == null ? 0 : n;
            admitted[0] = count < maxPerAddress;
            return admitted[0] ? count + 1 : n;
        });
        if (!admitted[0]) {
            total.decrementAndGet();
        }
        return admitted[0];
    }

    void release(InetAddress address) {
        unauthenticated.computeIfPresent(address, (a, n) -> {
            total.decrementAndGet();
            return n <= 1 ? null : n - 1;
        });
    }

    /** The IP address of a remote end, or null for a channel that has none (e.g. an embedded one). */
    public static InetAddress addressOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
