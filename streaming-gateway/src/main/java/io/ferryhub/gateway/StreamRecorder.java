package io.ferryhub.gateway;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.json.Json;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records one stream to a file ({@link StreamRecording} format): a handler on each end takes the data messages it
 * reads, with their direction and time, and the disk writes happen on the recordings' writer thread, never on an
 * event loop, one write and flush per batch of whatever queued up meanwhile.
 * <p>
 * The queue is bounded: past {@link #QUEUE_HIGH} bytes waiting for the disk, both ends of the stream are marked
 * unwritable, so the relay stops reading them as it does for a slow reader, until the writer has brought the queue
 * under {@link #QUEUE_LOW}. A recording is thus complete, and a disk slower than the stream slows the stream down
 * rather than filling the gateway's memory. Writing stops (logged once) if the disk fails; the stream goes on.
 */
final class StreamRecorder {
    private static final Logger log = LoggerFactory.getLogger(StreamRecorder.class);
    static final String NAME = "stream-recorder";
    /** Bytes waiting for the disk above which the stream's ends stop being read. */
    static final long QUEUE_HIGH = 4L * 1024 * 1024;
    /** Bytes waiting for the disk below which they are read again. */
    static final long QUEUE_LOW = QUEUE_HIGH / 2;
    /** Netty's user-defined writability bit this uses; traffic shaping takes 1 to 3. */
    private static final int WRITABILITY_INDEX = 5;
    /** Record header: direction u8, micros u64, length u32. */
    private static final int RECORD_HEADER = 13;

    private record Pending(int direction, long micros, ByteBuf bytes) {
    }

    private final Path file;
    private final Executor writer;
    private final long startNanos = System.nanoTime();
    private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong peakQueued = new AtomicLong();
    private final AtomicBoolean paused = new AtomicBoolean();
    private final AtomicLong pauses = new AtomicLong();
    private final List<Channel> ends = new CopyOnWriteArrayList<>();
    /** Touched only on the writer thread. */
    private DataOutputStream out;
    private boolean failed;
    private boolean closed;

    StreamRecorder(Path file, Executor writer, StreamToken token, boolean tunnel, Instant start) {
        this.file = file;
        this.writer = writer;
        String header = Json.toString(Json.object()
                .put("format", StreamRecording.FORMAT)
                .put("streamId", token.streamId())
                .put("hubName", token.hubName())
                .put("deviceId", token.deviceId())
                .put("moduleId", token.moduleId())
                .put("streamName", token.streamName())
                .put("initiator", token.initiator())
                .put("mode", tunnel ? "tunnel" : "stream")
                .put("start", start.toString())
                .put("first", token.side() == null ? null : token.side().label())) + "\n";
        writer.execute(() -> {
            try {
                // owner-only: a recording is the session's plaintext
                OwnerOnlyFiles.createDirectories(file.getParent());
                OutputStream raw = OwnerOnlyFiles.newOutputStream(file);
                out = new DataOutputStream(new BufferedOutputStream(raw, 64 * 1024));
                out.write(header.getBytes(StandardCharsets.UTF_8));
                out.flush();
                log.info("stream {} of {} recorded to {}", token.streamId(), token.deviceId(), file.getFileName());
            } catch (IOException e) {
                fail(e);
            }
        });
    }

    Path file() {
        return file;
    }

    /** Bytes read from the stream and not yet written to the file (record headers included). */
    long queuedBytes() {
        return queued.get();
    }

    /** The most {@link #queuedBytes()} has been. */
    long peakQueuedBytes() {
        return peakQueued.get();
    }

    /** How many times the stream was held back for the disk. */
    long pauses() {
        return pauses.get();
    }

    /** The handler for the end whose reads go in {@code direction}. */
    ChannelHandler handler(int direction) {
        return new Tap(direction);
    }

    void close() {
        writer.execute(() -> {
            drain();
            closed = true;
            if (out != null) {
                try {
                    out.close();
                } catch (IOException e) {
                    fail(e);
                }
                out = null;
            }
        });
    }

    private void record(int direction, ByteBuf content) {
        long micros = (System.nanoTime() - startNanos) / 1000;
        // the writer copies it to the file: no copy here, the frame's buffer is kept until then
        ByteBuf bytes = content.retainedSlice();
        long size = RECORD_HEADER + bytes.readableBytes();
        pending.add(new Pending(direction, micros, bytes));
        long now = queued.addAndGet(size);
        peakQueued.accumulateAndGet(now, Math::max);
        if (now > QUEUE_HIGH && paused.compareAndSet(false, true)) {
            pauses.incrementAndGet();
            log.debug("recording {}: {} bytes waiting for the disk, stream held back", file.getFileName(), now);
            applyPause();
        }
        if (drainScheduled.compareAndSet(false, true)) {
            writer.execute(this::drain);
        }
    }

    /** On the writer thread: writes whatever is queued, then flushes once. */
    private void drain() {
        drainScheduled.set(false);
        long written = 0;
        Pending p;
        while ((p = pending.poll()) != null) {
            int length = p.bytes().readableBytes();
            written += RECORD_HEADER + length;
            try {
                if (out != null && !failed && !closed) {
                    out.writeByte(p.direction());
                    out.writeLong(p.micros());
                    out.writeInt(length);
                    p.bytes().readBytes(out, length);
                }
            } catch (IOException e) {
                fail(e);
            } finally {
                p.bytes().release();
            }
        }
        try {
            if (out != null && !failed) {
                // what was relayed is in the file once its batch is written
                out.flush();
            }
        } catch (IOException e) {
            fail(e);
        }
        long left = queued.addAndGet(-written);
        if (left <= QUEUE_LOW && paused.compareAndSet(true, false)) {
            applyPause();
        }
    }

    /**
     * Marks each end writable or not as {@link #paused} says when the task runs (not when it was asked): pause and
     * resume race from different threads, and the last task to run must apply the latest state.
     */
    private void applyPause() {
        for (Channel ch : ends) {
            applyPause(ch);
        }
    }

    private void applyPause(Channel ch) {
        ch.eventLoop().execute(() -> {
            ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
            if (buffer != null) {
                buffer.setUserDefinedWritability(WRITABILITY_INDEX, !paused.get());
            }
        });
    }

    private void fail(IOException e) {
        if (!failed) {
            failed = true;
            log.warn("recording {} stopped: {}", file, e.toString());
        }
    }

    private final class Tap extends ChannelInboundHandlerAdapter {
        private final int direction;

        Tap(int direction) {
            this.direction = direction;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ends.add(ctx.channel());
            if (paused.get()) {
                applyPause(ctx.channel());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof BinaryWebSocketFrame || msg instanceof TextWebSocketFrame
                    || msg instanceof ContinuationWebSocketFrame) {
                ByteBuf content = ((WebSocketFrame) msg).content();
                if (content.isReadable()) {
                    record(direction, content);
                }
            }
            ctx.fireChannelRead(msg);
        }
    }
}
