package io.ferryhub.hub.adapter;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hub-wide rules for connections that have not authenticated yet, whatever their protocol (MQTT, AMQP) and
 * transport (TLS listener, WebSocket): each must authenticate within one deadline, and one remote address may hold
 * only so many of them at once over all listeners. An unauthenticated connection costs the hub memory (TLS, protocol
 * state) while it has proved nothing; these bounds keep a peer without credentials from holding that memory.
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

    private final Duration timeout;
    private final int maxPerAddress;
    private final ConcurrentHashMap<InetAddress, Integer> unauthenticated = new ConcurrentHashMap<>();

    public AuthenticationGuard(Duration timeout, int maxPerAddress) {
        if (timeout.isZero() || timeout.isNegative() || maxPerAddress < 1) {
            throw new IllegalArgumentException("the authentication timeout and the per-address bound must be positive");
        }
        this.timeout = timeout;
        this.maxPerAddress = maxPerAddress;
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

    /** Unauthenticated connections from {@code address} right now (for metrics and tests). */
    public int unauthenticated(InetAddress address) {
        return unauthenticated.getOrDefault(address, 0);
    }

    /** Counts one more unauthenticated connection from the address; false (and nothing counted) when at the bound. */
    boolean acquire(InetAddress address) {
        boolean[] admitted = new boolean[1];
        unauthenticated.compute(address, (a, n) -> {
            int count = n == null ? 0 : n;
            admitted[0] = count < maxPerAddress;
            return admitted[0] ? count + 1 : n;
        });
        return admitted[0];
    }

    void release(InetAddress address) {
        unauthenticated.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }

    static InetAddress addressOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }
}
