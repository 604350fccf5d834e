package io.ferryhub.bench.streams;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;

/**
 * The TCP service every path leads to (directly, through stunnel, through a device stream). The first byte a
 * client sends picks the mode: {@link #ECHO} sends every following byte back (with back-pressure: reading pauses
 * while the client is slow); {@link #SINK} reads an 8-byte length, discards that many bytes and answers one byte
 * when all have arrived, so the sender knows the transfer is complete.
 */
final class TargetServer implements AutoCloseable {
    static final byte ECHO = 'E';
    static final byte SINK = 'S';
    static final byte SINK_DONE = 'K';

    private final Channel server;

    TargetServer(EventLoopGroup group) {
        this.server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 2048)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ModeHandler());
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    /** Reads the mode byte, then hands the rest of the connection to the echo or the sink. */
    private static final class ModeHandler extends ChannelInboundHandlerAdapter {
        private byte mode;
        private long sinkRemaining = -1;
        private final ByteBuf lengthBytes = Unpooled.buffer(8);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            if (mode == 0 && buf.isReadable()) {
                mode = buf.readByte();
            }
            if (mode == ECHO) {
                if (buf.isReadable()) {
                    ctx.write(buf);
                } else {
                    buf.release();
                }
                return;
            }
            try {
                sink(ctx, buf);
            } finally {
                ReferenceCountUtil.release(buf);
            }
        }

        private void sink(ChannelHandlerContext ctx, ByteBuf buf) {
            while (buf.isReadable()) {
                if (sinkRemaining < 0) {
                    lengthBytes.writeBytes(buf, Math.min(buf.readableBytes(), lengthBytes.writableBytes()));
                    if (lengthBytes.writableBytes() == 0) {
                        sinkRemaining = lengthBytes.readLong();
                        lengthBytes.clear();
                    }
                    continue;
                }
                int take = (int) Math.min(buf.readableBytes(), sinkRemaining);
                buf.skipBytes(take);
                sinkRemaining -= take;
                if (sinkRemaining == 0) {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{SINK_DONE}));
                    sinkRemaining = -1;
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            // echo back-pressure: stop reading while the echoed bytes cannot be written
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
