package io.ferryhub.hub.adapter;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

/**
 * One connection's authentication deadline, from the moment it is accepted (TLS handshake included) or upgraded to
 * WebSocket, and its place in its address's count of unauthenticated connections. An absolute deadline, not an idle
 * timer: a peer trickling bytes does not extend it. Removes itself once the connection authenticates.
 */
final class AuthenticationDeadline extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AuthenticationDeadline.class);

    private final AuthenticationGuard guard;
    private final String transport;
    private ChannelHandlerContext ctx;
    private InetAddress address;
    private ScheduledFuture<?> timer;
    private boolean started;
    private boolean done;

    AuthenticationDeadline(AuthenticationGuard guard, String transport) {
        this.guard = guard;
        this.transport = transport;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        address = AuthenticationGuard.addressOf(ctx.channel().remoteAddress());
        if (address != null && !guard.acquire(address)) {
            address = null; // nothing was counted
            done = true;
            log.warn("{} from {} refused: {} connections from that address or {} in all are already unauthenticated",
                    transport, ctx.channel().remoteAddress(), guard.maxPerAddress(), guard.maxTotal());
            ctx.channel().close();
            return;
        }
        ctx.channel().attr(AuthenticationGuard.DEADLINE).set(this);
        timer = ctx.executor().schedule(this::expire, guard.timeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** On the event loop. */
    void authenticated() {
        if (done) {
            return;
        }
        finish();
        if (ctx.pipeline().context(this) != null) {
            ctx.pipeline().remove(this);
        }
    }

    private void expire() {
        if (done) {
            return;
        }
        finish();
        log.info("{} from {}: not authenticated within {} s; closing", transport, ctx.channel().remoteAddress(),
                guard.timeout().toSeconds());
        // the protocol's handlers may tell the peer why (AMQP's close frame) before the channel closes
        ctx.fireUserEventTriggered(AuthenticationGuard.AuthenticationTimeout.INSTANCE);
        ctx.channel().close();
    }

    private void finish() {
        done = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (address != null) {
            guard.release(address);
            address = null;
        }
        ctx.channel().attr(AuthenticationGuard.DEADLINE).compareAndSet(this, null);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            finish();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        // a pipeline torn down another way (e.g. the channel deregistered) must not keep the address's slot
        if (!done && started) {
            finish();
        }
    }
}
