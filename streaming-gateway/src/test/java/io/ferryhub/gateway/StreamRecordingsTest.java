package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;
import io.ferryhub.testsupport.Await;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention against recordings being written, with a cap the open recordings alone exceed: the closed ones are
 * deleted, the open ones are kept whole until they end.
 */
class StreamRecordingsTest {
    private static final long CAP = 1_000;

    @TempDir
    Path dir;
    private StreamRecordings recordings;

    @AfterEach
    void stop() {
        if (recordings != null) {
            recordings.close();
        }
    }

    @Test
    void recordingsBeingWrittenAreKeptWholeWhenTheyAloneAreOverTheCap() throws Exception {
        recordings = new StreamRecordings(dir, true, Duration.ofDays(30), CAP, Clock.systemUTC());
        StreamRecorder first = recordings.recorderFor(token("dev1"), false);
        StreamRecorder second = recordings.recorderFor(token("dev2"), false);
        StreamRecorder ended = recordings.recorderFor(token("dev3"), false);
        EmbeddedChannel firstEnd = new EmbeddedChannel(first.handler(StreamRecording.FIRST_TO_SECOND));
        EmbeddedChannel secondEnd = new EmbeddedChannel(second.handler(StreamRecording.SECOND_TO_FIRST));
        EmbeddedChannel endedEnd = new EmbeddedChannel(ended.handler(StreamRecording.FIRST_TO_SECOND));
        byte[] a = relay(firstEnd, 3_000, 1);
        byte[] b = relay(secondEnd, 2_000, 2);
        relay(endedEnd, 500, 3);
        await(() -> recorded(first.file(), StreamRecording.FIRST_TO_SECOND).length == a.length
                && recorded(second.file(), StreamRecording.SECOND_TO_FIRST).length == b.length,
                "the open recordings were not written");

        recordings.finished(ended);
        await(() -> !Files.exists(ended.file()), "the closed recording was not deleted");
        byte[] more = relay(firstEnd, 4_000, 4);
        recordings.finished(recorderThatEndsAtOnce());
        await(() -> recorded(first.file(), StreamRecording.FIRST_TO_SECOND).length == a.length + more.length,
                "the open recording stopped growing");
        assertArrayEquals(concat(a, more), recorded(first.file(), StreamRecording.FIRST_TO_SECOND));
        assertArrayEquals(b, recorded(second.file(), StreamRecording.SECOND_TO_FIRST));
        assertEquals(0, recorded(first.file(), StreamRecording.SECOND_TO_FIRST).length);

        // once ended, a recording is like any other: over the cap, it goes
        recordings.finished(first);
        await(() -> !Files.exists(first.file()), "an ended recording over the cap was kept");
        assertTrue(Files.exists(second.file()), "the recording still being written was deleted");
        recordings.finished(second);
        await(() -> !Files.exists(second.file()), "an ended recording over the cap was kept");
    }

    /** A stream that ends without a byte: its end runs the retention again. */
    private StreamRecorder recorderThatEndsAtOnce() {
        return recordings.recorderFor(token("dev4"), false);
    }

    private static byte[] relay(EmbeddedChannel end, int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        for (int at = 0; at < size; at += 700) {
            end.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes, at, Math.min(700, size - at))));
            BinaryWebSocketFrame passed = end.readInbound();
            passed.release();
        }
        return bytes;
    }

    private static byte[] recorded(Path file, int direction) {
        try {
            return StreamRecording.read(file).bytes(direction);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static StreamToken token(String device) {
        return new StreamToken(UUID.randomUUID().toString().replace("-", ""), "hub", device, null, "ssh", "service",
                Instant.now().plusSeconds(60), null, StreamToken.Side.DEVICE);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Await.until(what, Duration.ofSeconds(30), condition::getAsBoolean);
    }
}
