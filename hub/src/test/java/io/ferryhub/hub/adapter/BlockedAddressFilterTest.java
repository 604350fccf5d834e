package io.ferryhub.hub.adapter;

import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockedAddressFilterTest {
    private static final class ChannelFrom extends EmbeddedChannel {
        private final InetSocketAddress remote;

        ChannelFrom(InetSocketAddress remote) {
            super(false, false);
            this.remote = remote;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }
    }

    private static EmbeddedChannel accept(FailedAuthentications failures, String from, AtomicBoolean reached)
            throws Exception {
        EmbeddedChannel channel = new ChannelFrom(new InetSocketAddress(InetAddress.getByName(from), 40000));
        channel.pipeline().addLast(BlockedAddressFilter.HANDLER_NAME, new BlockedAddressFilter(failures));
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                reached.set(true);
            }
        });
        channel.register();
        return channel;
    }

    @Test
    void aBlockedAddressIsClosedBeforeTheProtocolSeesItAndOthersPassWithTheFilterGone() throws Exception {
        FailedAuthentications failures = new FailedAuthentications(new FailedAuthentications.Settings(1,
                Duration.ofMinutes(1), Duration.ofMinutes(1), 100, false));
        failures.failed("d1", InetAddress.getByName("127.0.0.2"));

        AtomicBoolean blockedReached = new AtomicBoolean();
        EmbeddedChannel blocked = accept(failures, "127.0.0.2", blockedReached);
        assertFalse(blocked.isOpen());
        assertFalse(blockedReached.get(), "the protocol's handlers never saw the connection");
        assertEquals(1, failures.refusedAtAcceptCount());

        AtomicBoolean otherReached = new AtomicBoolean();
        EmbeddedChannel other = accept(failures, "127.0.0.1", otherReached);
        assertTrue(other.isOpen());
        assertTrue(otherReached.get());
        assertNull(other.pipeline().get(BlockedAddressFilter.HANDLER_NAME), "nothing left to pass per message");
        other.close();
    }
}
