package io.ferryhub.hub.adapter;

import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First in the pipeline of every device listener: a connection from an address that is blocked for failed
 * authentications ({@link FailedAuthentications}) is closed as it is accepted, before any TLS work is spent on it.
 * One map read per connection; never blocks.
 */
@ChannelHandler.Sharable
public final class BlockedAddressFilter extends ChannelInboundHandlerAdapter {
    public static final String HANDLER_NAME = "blockedAddressFilter";
    private final FailedAuthentications failures;

    public BlockedAddressFilter(FailedAuthentications failures) {
        this.failures = failures;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (failures.isBlocked(AuthenticationGuard.addressOf(ctx.channel().remoteAddress()))) {
            failures.refusedAtAccept();
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
        ctx.pipeline().remove(this);
    }
}
