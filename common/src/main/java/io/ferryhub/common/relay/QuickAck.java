package io.ferryhub.common.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import jdk.net.ExtendedSocketOptions;

import java.net.SocketOption;

/**
 * Acknowledges what a plain TCP end of a relay sends at once (Linux's {@code TCP_QUICKACK}, set again after each
 * read since the kernel drops back to delayed acknowledgements by itself), for the ends that face programs leaving
 * Nagle's algorithm on: OpenSSH does for every session without a terminal ({@code ssh host true}, scp, sftp), both
 * in {@code ssh} and in {@code sshd}. Such a program sends a small message, then holds the next one back until the
 * first is acknowledged; a receiver that delays its acknowledgement (40 ms on Linux) stalls it that long, several
 * times per connection set-up. Acknowledging at once releases it. Where the option does not exist (other systems,
 * Unix sockets) this does nothing.
 */
@ChannelHandler.Sharable
public final class QuickAck extends ChannelInboundHandlerAdapter {
    public static final String NAME = "quick-ack";
    private static final QuickAck INSTANCE = new QuickAck();
    private static final ChannelOption<Boolean> OPTION = option();

    private QuickAck() {
    }

    /** Adds the handler to a TCP channel's pipeline (first, so every read passes it); other channels are left alone. */
    public static void addTo(Channel ch) {
        if (OPTION != null && ch instanceof SocketChannel) {
            ch.pipeline().addFirst(NAME, INSTANCE);
        }
    }

    /** Whether this JVM on this system can set the option at all. */
    public static boolean supported() {
        return OPTION != null;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        set(ctx.channel());
        ctx.fireChannelActive();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        set(ctx.channel());
        ctx.fireChannelReadComplete();
    }

    private static void set(Channel ch) {
        // false from Netty when the socket does not support it: nothing to do then
        ch.config().setOption(OPTION, Boolean.TRUE);
    }

    private static ChannelOption<Boolean> option() {
        try {
            SocketOption<Boolean> quickAck = ExtendedSocketOptions.TCP_QUICKACK;
            try (java.nio.channels.SocketChannel probe = java.nio.channels.SocketChannel.open()) {
                return probe.supportedOptions().contains(quickAck) ? NioChannelOption.of(quickAck) : null;
            }
        } catch (Exception | LinkageError e) {
            return null;
        }
    }
}
