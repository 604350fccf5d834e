package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A fast stream recorded onto a disk that stalls: the gateway holds the stream back once a few MiB wait for the
 * disk instead of queueing everything in memory, and once the disk goes on, the stream completes and its
 * recording holds every byte sent.
 */
class StreamRecordingBoundTest {
    private static final int FRAME = 16 * 1024;
    private static final int SENT = 48 * 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void aStalledDiskHoldsTheStreamBackAndTheRecordingIsComplete() throws Exception {
        ExecutorService writer = Executors.newSingleThreadExecutor();
        CountDownLatch diskStalled = new CountDownLatch(1);
        writer.execute(() -> {
            try {
                diskStalled.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        StreamRecordings recordings = new StreamRecordings(dir, true, Duration.ofDays(1), Long.MAX_VALUE,
                Clock.systemUTC(), writer);
        try (GatewayFixture fixture = new GatewayFixture()) {
            fixture.gateway().recordings(recordings);
            StreamToken token = GatewayFixture.newStream("fast-device");
            GatewayFixture.Peer sender = fixture.connect(token);
            GatewayFixture.Peer receiver = fixture.connect(token);
            Set<StreamRecorder> recording = recordings.recorders();
            assertEquals(1, recording.size());
            StreamRecorder recorder = recording.iterator().next();

            byte[] data = new byte[SENT];
            new Random(21).nextBytes(data);
            for (int at = 0; at < SENT; at += FRAME) {
                sender.send(ByteBuffer.wrap(data, at, FRAME));
            }
            Received got = new Received();
            got.untilStill(receiver);
            System.out.printf("disk stalled: %d of %d bytes relayed, %d queued for the disk (peak %d)%n",
                    got.bytes, SENT, recorder.queuedBytes(), recorder.peakQueuedBytes());
            assertTrue(got.bytes < 4 * StreamRecorder.QUEUE_HIGH, "the stream went on while the disk stalled: "
                    + got.bytes + " bytes relayed");
            assertTrue(recorder.peakQueuedBytes() <= 2 * StreamRecorder.QUEUE_HIGH,
                    "queued for the disk: " + recorder.peakQueuedBytes());
            assertTrue(recorder.pauses() >= 1);

            diskStalled.countDown();
            got.until(receiver, SENT);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            assertArrayEquals(sha.digest(data), got.sha.digest(), "relayed intact");
            assertTrue(recorder.peakQueuedBytes() <= 2 * StreamRecorder.QUEUE_HIGH,
                    "queued for the disk: " + recorder.peakQueuedBytes());

            sender.closeBlocking();
            StreamRecording.Contents[] last = new StreamRecording.Contents[1];
            Await.within(Duration.ofSeconds(30), () -> {
                last[0] = StreamRecording.read(recorder.file());
                return last[0].bytes(StreamRecording.FIRST_TO_SECOND).length >= SENT
                        && recordings.recorders().isEmpty();
            });
            StreamRecording.Contents recorded = last[0];
            byte[] inFile = recorded.bytes(StreamRecording.FIRST_TO_SECOND);
            assertEquals(SENT, inFile.length, "bytes in the recording");
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                    MessageDigest.getInstance("SHA-256").digest(inFile), "the recording holds what was sent");
            assertEquals(0, recorder.queuedBytes());
        } finally {
            diskStalled.countDown();
            recordings.close();
        }
    }

    /** What one peer received: a running count and digest. */
    private static final class Received {
        final MessageDigest sha;
        long bytes;

        Received() throws Exception {
            sha = MessageDigest.getInstance("SHA-256");
        }

        /** Takes what arrives until nothing has for a second (at most 30 s). */
        void untilStill(GatewayFixture.Peer peer) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                ByteBuffer b = peer.received.poll(1, TimeUnit.SECONDS);
                if (b == null) {
                    return;
                }
                take(b);
            }
        }

        void until(GatewayFixture.Peer peer, long total) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (bytes < total) {
                ByteBuffer b = peer.received.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (b == null) {
                    throw new AssertionError("only " + bytes + " of " + total + " bytes relayed");
                }
                take(b);
            }
        }

        private void take(ByteBuffer b) {
            bytes += b.remaining();
            sha.update(b);
        }
    }
}
