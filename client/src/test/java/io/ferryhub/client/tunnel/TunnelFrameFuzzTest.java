package io.ferryhub.client.tunnel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the receiving side of the tunnel protocol ({@code ferryhub.tunnel.v1}): {@link Hello#parse} on a link's first
 * frame, then {@link TunnelLink} and an accepting {@link TunnelSession} on an {@link EmbeddedChannel} for every frame
 * after it (OPEN, OPEN_OK, DATA, WINDOW, ACK, CLOSE, END, unknown types, short bodies). A corpus file is a sequence of
 * frames, each behind a two-byte big-endian length. Documented outcomes: a HELLO is refused with
 * IllegalArgumentException; the session answers, ignores, or ends itself ("protocol error") and closes the link.
 * Anything thrown out of the channel or the session's loop fails the test.
 */
class TunnelFrameFuzzTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    @Test
    void framesFromAPeerNeverEscapeTheSession() throws Exception {
        long ran = Fuzzer.forCorpus("tunnel").run(TunnelFrameFuzzTest::feed);
        assertTrue(ran > 5);
    }

    static void feed(byte[] input) {
        List<byte[]> frames = split(input);
        // TunnelLink hands on only frames of at least a header, so Hello.parse never sees shorter ones
        if (!frames.isEmpty() && frames.get(0).length >= TunnelFrame.HEADER) {
            try {
                Hello.parse(Unpooled.wrappedBuffer(frames.get(0)));
            } catch (IllegalArgumentException refused) {
                // documented: the dialer and the acceptor close the link
            }
        }
        EmbeddedChannel ws = new EmbeddedChannel();
        List<EmbeddedChannel> locals = new ArrayList<>();
        TunnelSession session = new TunnelSession(TunnelSession.Role.ACCEPTOR, new byte[16], ws.eventLoop(),
                TunnelConfig.defaults(), (target, loop) -> {
                    if (target.startsWith("ok")) {
                        EmbeddedChannel local = new EmbeddedChannel();
                        locals.add(local);
                        return CompletableFuture.<Channel>completedFuture(local);
                    }
                    return CompletableFuture.failedFuture(new IOException("connection refused"));
                });
        try {
            TunnelLink.install(ws, session);
            ws.runPendingTasks();
            session.execute(() -> session.attach(ws, 0, true));
            ws.runPendingTasks();
            for (byte[] frame : frames) {
                if (!ws.isOpen()) {
                    break;
                }
                ws.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(frame)));
                ws.runPendingTasks();
                for (EmbeddedChannel local : locals) {
                    local.runPendingTasks();
                }
            }
            ws.checkException();
        } finally {
            ws.close();
            ws.runPendingTasks();
            ws.finishAndReleaseAll();
            for (EmbeddedChannel local : locals) {
                local.finishAndReleaseAll();
            }
        }
    }

    /** Frames behind two-byte lengths; a short last length takes what is left. */
    static List<byte[]> split(byte[] input) {
        List<byte[]> frames = new ArrayList<>();
        int at = 0;
        while (at + 2 <= input.length) {
            int len = ((input[at] & 0xff) << 8) | (input[at + 1] & 0xff);
            at += 2;
            int n = Math.min(len, input.length - at);
            frames.add(java.util.Arrays.copyOfRange(input, at, at + n));
            at += n;
        }
        return frames;
    }

    // ---- the corpus, written once with -Dfuzz.writeCorpus=true (then committed) ---------------------------------

    @Test
    void writeCorpusWhenAsked() throws Exception {
        if (!Boolean.getBoolean("fuzz.writeCorpus")) {
            return;
        }
        Path out = Path.of("src/test/resources/fuzz/tunnel");
        Files.createDirectories(out);
        byte[] id = new byte[16];
        ByteBuf payload = Unpooled.copiedBuffer("SSH-2.0-fuzz\r\n", StandardCharsets.US_ASCII);
        write(out.resolve("01-open-data-close.bin"), TunnelFrame.hello(ALLOC, 0, id, 0),
                TunnelFrame.open(ALLOC, 1, 65536, "ok-ssh"), TunnelFrame.data(ALLOC, 1, payload.retainedDuplicate()),
                TunnelFrame.window(ALLOC, 1, 4096), TunnelFrame.ack(ALLOC, 1),
                TunnelFrame.withReason(ALLOC, TunnelFrame.CLOSE, 1, ""));
        write(out.resolve("02-refused-open-end.bin"), TunnelFrame.hello(ALLOC, TunnelFrame.FLAG_RESUME, id, 3),
                TunnelFrame.open(ALLOC, 7, 1024, "db"), TunnelFrame.data(ALLOC, 7, payload.retainedDuplicate()),
                TunnelFrame.withReason(ALLOC, TunnelFrame.END, 0, "bye"));
        write(out.resolve("03-two-channels.bin"), TunnelFrame.hello(ALLOC, 0, id, 0),
                TunnelFrame.open(ALLOC, 1, 16, "ok-a"), TunnelFrame.open(ALLOC, 3, 16, "ok-b"),
                TunnelFrame.data(ALLOC, 3, payload.retainedDuplicate()), TunnelFrame.openOk(ALLOC, 1, 100),
                TunnelFrame.withReason(ALLOC, TunnelFrame.OPEN_FAIL, 3, "no"),
                TunnelFrame.data(ALLOC, 1, payload.retainedDuplicate()), TunnelFrame.window(ALLOC, 3, -1),
                TunnelFrame.withReason(ALLOC, TunnelFrame.CLOSE, 3, "done"));
        payload.release();
    }

    private static void write(Path file, ByteBuf... frames) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf f : frames) {
            byte[] bytes = new byte[f.readableBytes()];
            f.readBytes(bytes);
            f.release();
            out.write(bytes.length >>> 8);
            out.write(bytes.length);
            out.writeBytes(bytes);
        }
        Files.write(file, out.toByteArray());
    }
}
