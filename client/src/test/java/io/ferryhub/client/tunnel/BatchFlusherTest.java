package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(10)
class BatchFlusherTest {

    /** Counts the flushes that reach the channel's transport. */
    private static final class FlushCounter extends ChannelOutboundHandlerAdapter {
        final AtomicInteger flushes = new AtomicInteger();

        @Override
        public void flush(ChannelHandlerContext ctx) {
            flushes.incrementAndGet();
            ctx.flush();
        }
    }

    @Test
    void writesOfOneBatchLeaveWithOneFlushPerChannelAfterTheBatch() {
        FlushCounter linkFlushes = new FlushCounter();
        FlushCounter localFlushes = new FlushCounter();
        EmbeddedChannel link = new EmbeddedChannel(linkFlushes);
        EmbeddedChannel local = new EmbeddedChannel(localFlushes);
        // The loop's task queue: what runs once the batch of reads in hand is done.
        Queue<Runnable> afterBatch = new ArrayDeque<>();
        BatchFlusher flusher = new BatchFlusher(afterBatch::add);

        for (int i = 0; i < 3; i++) {
            link.write(Unpooled.copiedBuffer("frame" + i, StandardCharsets.US_ASCII));
            flusher.written(link);
        }
        local.write(Unpooled.copiedBuffer("bytes", StandardCharsets.US_ASCII));
        flusher.written(local);
        assertEquals(0, linkFlushes.flushes.get(), "nothing is flushed during the batch");
        assertEquals(0, localFlushes.flushes.get());

        runAll(afterBatch);

        assertEquals(1, linkFlushes.flushes.get());
        assertEquals(1, localFlushes.flushes.get());
        for (int i = 0; i < 3; i++) {
            assertEquals("frame" + i, text(link.readOutbound()));
        }
        assertEquals("bytes", text(local.readOutbound()));
        link.finishAndReleaseAll();
        local.finishAndReleaseAll();
    }

    @Test
    void aWriteAfterTheFlushIsFlushedByTheNextBatch() {
        FlushCounter linkFlushes = new FlushCounter();
        EmbeddedChannel link = new EmbeddedChannel(linkFlushes);
        Queue<Runnable> afterBatch = new ArrayDeque<>();
        BatchFlusher flusher = new BatchFlusher(afterBatch::add);

        link.write(Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII));
        flusher.written(link);
        runAll(afterBatch);
        link.write(Unpooled.copiedBuffer("second", StandardCharsets.US_ASCII));
        flusher.written(link);
        runAll(afterBatch);

        assertEquals(2, linkFlushes.flushes.get());
        assertEquals("first", text(link.readOutbound()));
        assertEquals("second", text(link.readOutbound()));
        link.finishAndReleaseAll();
    }

    private static void runAll(Queue<Runnable> tasks) {
        for (Runnable task; (task = tasks.poll()) != null; ) {
            task.run();
        }
    }

    private static String text(Object msg) {
        ByteBuf buf = (ByteBuf) msg;
        try {
            return buf.toString(StandardCharsets.US_ASCII);
        } finally {
            buf.release();
        }
    }
}
