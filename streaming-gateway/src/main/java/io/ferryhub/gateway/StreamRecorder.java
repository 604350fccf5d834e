package io.ferryhub.gateway;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.json.Json;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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
import java.util.concurrent.Executor;

/**
 * Records one stream to a file ({@link StreamRecording} format): a handler on each end copies the data messages
 * it reads, with their direction and time, and the disk writes happen on the recordings' writer thread, never on
 * an event loop. Writing stops (logged once) if the disk fails; the stream itself goes on.
 */
final class StreamRecorder {
    private static final Logger log = LoggerFactory.getLogger(StreamRecorder.class);
    static final String NAME = "stream-recorder";

    private final Path file;
    private final Executor writer;
    private final long startNanos = System.nanoTime();
    private DataOutputStream out;
    private boolean failed;

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

    /** The handler for the end whose reads go in {@code direction}. */
    ChannelHandler handler(int direction) {
        return new Tap(direction);
    }

    void close() {
        writer.execute(() -> {
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
        byte[] bytes = ByteBufUtil.getBytes(content);
        writer.execute(() -> {
            if (out == null || failed) {
                return;
            }
            try {
                out.writeByte(direction);
                out.writeLong(micros);
                out.writeInt(bytes.length);
                out.write(bytes);
                // on the writer thread, not an event loop: what was relayed is in the file at once
                out.flush();
            } catch (IOException e) {
                fail(e);
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
