package io.ferryhub.common.ipfilter;

import io.ferryhub.common.metrics.Metrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.ipfilter.AbstractRemoteAddressFilter;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first handler of every listener's pipeline: it asks each of its {@link Policy policies} whether a new
 * connection's remote address may connect, and closes the connection at once when one says no, before TLS or any
 * protocol byte is read (the peer sees its handshake fail, never a ServerHello). It keeps the connections it let in,
 * so that when a policy changes ({@link #recheck}) those from an address now refused are closed too.
 *
 * <p>Refusals are counted ({@code ferryhub_connections_rejected_total}, by policy and by when: {@code connect} or
 * {@code rule_change}) and logged at most once per {@link #LOG_INTERVAL_SECONDS} seconds with the number left
 * unlogged, so a peer retrying in a loop cannot flood the log.
 */
public final class AddressGate {
    /** The handler's name in the pipeline. */
    public static final String HANDLER_NAME = "address-gate";
    static final long LOG_INTERVAL_SECONDS = 10;
    private static final Logger log = LoggerFactory.getLogger(AddressGate.class);

    /** One source of refusals (the IP filter; later e.g. a lock-out of addresses that failed to authenticate). */
    public interface Policy {
        /** The metric label and log word for this policy's refusals, e.g. {@code ip_filter}. */
        String reason();

        boolean admits(InetAddress address);
    }

    private final List<Policy> policies;
    private final ChannelGroup admitted = new DefaultChannelGroup("admitted", GlobalEventExecutor.INSTANCE);
    private final Metrics.Counter rejections;
    private final Filter filter = new Filter();
    private final AtomicLong nextLogNanos = new AtomicLong(System.nanoTime());
    private final AtomicLong unlogged = new AtomicLong();

    public AddressGate(Metrics metrics, List<Policy> policies) {
        this.policies = List.copyOf(policies);
        this.rejections = metrics.counter("ferryhub_connections_rejected_total", "Connections closed because of "
                + "their remote address (reason: the policy, such as ip_filter; when: connect or rule_change)",
                "reason", "when");
    }

    /** Puts the gate first in {@code pipeline}: call it before adding TLS or a protocol. */
    public void addTo(ChannelPipeline pipeline) {
        pipeline.addFirst(HANDLER_NAME, filter);
    }

    /** The policy refusing {@code address}, or null when every policy admits it. */
    public Policy refusing(InetAddress address) {
        for (Policy p : policies) {
            if (!p.admits(address)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Closes the open connections whose address a policy now refuses (call it after changing a policy).
     *
     * @return how many were closed
     */
    public int recheck() {
        int closed = 0;
        for (Channel ch : admitted) {
            InetAddress address = addressOf(ch.remoteAddress());
            Policy refusing = address == null ? null : refusing(address);
            if (refusing != null) {
                ch.close();
                closed++;
                rejected(refusing, address, "rule_change");
            }
        }
        return closed;
    }

    /** Connections let in and still open. */
    public int openConnections() {
        return admitted.size();
    }

    private void rejected(Policy policy, InetAddress address, String when) {
        rejections.inc(policy.reason(), when);
        long now = System.nanoTime();
        long next = nextLogNanos.get();
        if (now - next >= 0 && nextLogNanos.compareAndSet(next, now + TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS))) {
            long more = unlogged.getAndSet(0);
            log.info("{} connection from {} by the {}{}", when.equals("connect") ? "refused a" : "closed an open",
                    address.getHostAddress(), policy.reason().replace('_', ' '),
                    more == 0 ? "" : " (and " + more + " more refused since the last such line)");
        } else {
            unlogged.incrementAndGet();
        }
    }

    private static InetAddress addressOf(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    /** Netty's filter closes a refused channel as soon as its remote address is known, then steps aside. */
    @ChannelHandler.Sharable
    private final class Filter extends AbstractRemoteAddressFilter<InetSocketAddress> {
        @Override
        protected boolean accept(ChannelHandlerContext ctx, InetSocketAddress remote) {
            InetAddress address = remote.getAddress();
            Policy refusing = address == null ? null : refusing(address);
            if (refusing != null) {
                rejected(refusing, address, "connect");
                return false;
            }
            return true;
        }

        @Override
        protected void channelAccepted(ChannelHandlerContext ctx, InetSocketAddress remote) {
            admitted.add(ctx.channel());
        }

        @Override
        protected ChannelFuture channelRejected(ChannelHandlerContext ctx, InetSocketAddress remote) {
            return null; // closed at once, nothing said: IoT Hub's answer does not mention the rule either
        }
    }
}
