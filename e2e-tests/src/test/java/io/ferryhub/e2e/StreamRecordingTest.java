package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.gateway.StreamRecording;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.signaling.StreamToken;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Session recording end to end: a target that answers every request with other bytes (so the two directions
 * differ), streams through both proxies, and the recording files read back. Only streams the device's policy or
 * the hub asks to record are recorded; retention removes old recordings and keeps the total under its cap.
 */
class StreamRecordingTest {
    private static final int REQUEST = 50_000;

    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static ServerSocket reverser;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        reverser = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread server = new Thread(() -> {
            while (!reverser.isClosed()) {
                Socket accepted;
                try {
                    accepted = reverser.accept();
                } catch (IOException e) {
                    continue;
                }
                // one thread per connection: a stream left open must not hold up the others
                Thread connection = new Thread(() -> {
                    try (Socket s = accepted) {
                        byte[] request = s.getInputStream().readNBytes(REQUEST);
                        s.getOutputStream().write(reversed(request));
                        s.getOutputStream().flush();
                        s.getInputStream().read(); // until the client closes
                    } catch (IOException e) {
                        // the client went away
                    }
                }, "reverser-connection");
                connection.setDaemon(true);
                connection.start();
            }
        }, "reverser");
        server.setDaemon(true);
        server.start();
    }

    @AfterAll
    static void stop() throws Exception {
        reverser.close();
        hub.close();
    }

    @Test
    void aDeviceWhosePolicySaysRecordIsRecordedBothWaysAndOthersAreNot() throws Exception {
        try (Proxies recorded = proxies("recorded-device");
             Proxies unrecorded = proxies("unrecorded-device")) {
            assertEquals(200, hub.owner("PUT", "/ferryhub/devices/recorded-device/streamPolicy",
                    "{\"rules\":[{\"name\":\"anyone\"}],\"record\":true}", Map.of()).statusCode());
            byte[] request = exchange(recorded, 1);
            exchange(unrecorded, 2);
            recorded.awaitIdle();
            unrecorded.awaitIdle();
            Path file = theRecordingOf("recorded-device", "one recording of the recorded device");
            assertEquals(List.of(), recordingsOf("unrecorded-device"), "no recording without the policy");
            StreamRecording.Contents c = awaitComplete(file, request);
            assertEquals("recorded-device", c.header().path("deviceId").asText());
            assertEquals("reverse", c.header().path("streamName").asText());
            assertEquals("service", c.header().path("initiator").asText());
            assertEquals("stream", c.header().path("mode").asText());
            long last = -1;
            for (StreamRecording.Entry e : c.entries()) {
                assertTrue(e.micros() >= last, "timestamps go forward");
                last = e.micros();
            }
        }
    }

    @Test
    void aTunnelSessionsRecordingTakesApartIntoItsChannels() throws Exception {
        try (Proxies device = proxies("tunnel-recorded-device");
             ServiceProxy tunnel = new ServiceProxy(hub.policy("service"),
                     URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                     new ServiceProxy.Target("tunnel-recorded-device", null, "reverse", Duration.ZERO,
                             Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     ServiceProxy.Mode.TUNNEL, TunnelConfig.defaults())) {
            assertEquals(200, hub.owner("PUT", "/ferryhub/devices/tunnel-recorded-device/streamPolicy",
                    "{\"rules\":[{\"name\":\"anyone\"}],\"record\":true}", Map.of()).statusCode());
            byte[] first = exchange(tunnel.localAddress().getPort(), 4);
            byte[] second = exchange(tunnel.localAddress().getPort(), 5);
            Path file = theRecordingOf("tunnel-recorded-device", "one recording: one session over one stream");
            StreamRecording.Contents complete = Await.value(Duration.ofSeconds(30), () -> {
                StreamRecording.Contents read = StreamRecording.read(file);
                return read.tunnelChannels().size() == 2 && channelBytes(read, 2) == 2 * REQUEST ? read : null;
            });
            StreamRecording.Contents c = complete != null ? complete : StreamRecording.read(file);
            assertEquals("tunnel", c.header().path("mode").asText());
            assertEquals(List.of("reverse", "reverse"), List.copyOf(c.tunnelChannels().values()));
            List<Long> ids = List.copyOf(c.tunnelChannels().keySet());
            byte[][] requests = {first, second};
            for (int i = 0; i < 2; i++) {
                long id = ids.get(i);
                assertArrayEquals(requests[i], c.tunnelChannelBytes(c.sentBy(StreamToken.Side.SERVICE), id));
                assertArrayEquals(reversed(requests[i]), c.tunnelChannelBytes(c.sentBy(StreamToken.Side.DEVICE), id));
            }
        }
    }

    private static long channelBytes(StreamRecording.Contents c, int channels) {
        long n = 0;
        for (long id : c.tunnelChannels().keySet()) {
            n += c.tunnelChannelBytes(0, id).length + c.tunnelChannelBytes(1, id).length;
        }
        return n / channels;
    }

    @Test
    void recordingEveryStreamAndRetention() throws Exception {
        Path dir = dataDir.resolve(HubServer.RECORDINGS_DIR);
        Files.createDirectories(dir);
        Path old = dir.resolve("20200101T000000Z-old-device-0" + StreamRecording.SUFFIX);
        Files.write(old, new byte[10]);
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
        Path big = dir.resolve("20260101T000000Z-big-device-0" + StreamRecording.SUFFIX);
        Files.write(big, new byte[300_000]);
        Files.setLastModifiedTime(big, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        hub.hub.recordStreams(true, Duration.ofDays(30), 250_000);
        try (Proxies any = proxies("any-device")) {
            byte[] request = exchange(any, 3);
            any.awaitIdle();
            Path file = theRecordingOf("any-device", "the hub records every stream");
            awaitComplete(file, request);
            Proxies.await(() -> !Files.exists(old) && !Files.exists(big), "retention kept old or excess recordings");
            assertTrue(Files.exists(file), "the newest recording is kept");
        } finally {
            hub.hub.recordStreams(false, HubServer.DEFAULT_RECORDING_MAX_AGE, HubServer.DEFAULT_RECORDING_MAX_BYTES);
        }
    }

    /**
     * A recording being written is never deleted to make room: the long stream's recording is the oldest file in the
     * directory while two other streams end and push the directory over its cap, so retention by size alone would
     * take it first; it is kept and, once its stream ends, holds every byte of it.
     */
    @Test
    void retentionNeverDeletesARecordingBeingWritten() throws Exception {
        hub.hub.recordStreams(true, Duration.ofDays(30), 150_000);
        try (Proxies longLived = proxies("long-lived-device");
             Proxies shortLived = proxies("short-lived-device");
             Socket open = new Socket(InetAddress.getLoopbackAddress(), longLived.port())) {
            byte[] request = new byte[REQUEST];
            new Random(6).nextBytes(request);
            open.setSoTimeout(30_000);
            open.getOutputStream().write(request, 0, REQUEST / 2);
            open.getOutputStream().flush();
            Proxies.await(() -> recordingsOf("long-lived-device").size() == 1
                    && sentBytes(recordingsOf("long-lived-device").get(0)) == REQUEST / 2,
                    "the open stream's first half was not recorded");
            Path openRecording = recordingsOf("long-lived-device").get(0);
            exchange(shortLived, 7);
            // ended at the gateway before the next one starts, so that one is the older closed recording when the
            // next one's end applies the cap (the long-lived stream stays listed)
            Proxies.await(() -> !relaying(shortLived, "short-lived-device"), "the first short stream did not end");
            byte[] last = exchange(shortLived, 8);
            Proxies.await(() -> {
                List<Path> left = recordingsOf("short-lived-device");
                return left.size() == 1 && holds(left.get(0), last);
            }, "retention did not delete the older closed recording");
            assertTrue(Files.exists(openRecording), "the recording being written was deleted");

            open.getOutputStream().write(request, REQUEST / 2, REQUEST - REQUEST / 2);
            open.getOutputStream().flush();
            assertArrayEquals(reversed(request), open.getInputStream().readNBytes(REQUEST));
            open.close();
            longLived.awaitIdle();
            awaitComplete(openRecording, request);
        } finally {
            hub.hub.recordStreams(false, HubServer.DEFAULT_RECORDING_MAX_AGE, HubServer.DEFAULT_RECORDING_MAX_BYTES);
        }
    }

    /** Whether the hub's gateway lists a stream of the device (true when it cannot tell). */
    private static boolean relaying(Proxies proxies, String deviceId) {
        try {
            for (JsonNode stream : proxies.hubStreams()) {
                if (deviceId.equals(stream.path("deviceId").asText())) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            return true;
        }
    }

    private static boolean holds(Path recording, byte[] request) {
        try {
            StreamRecording.Contents c = StreamRecording.read(recording);
            return Arrays.equals(c.bytes(StreamRecording.FIRST_TO_SECOND), request)
                    || Arrays.equals(c.bytes(StreamRecording.SECOND_TO_FIRST), request);
        } catch (IOException e) {
            return false;
        }
    }

    private static long sentBytes(Path recording) {
        try {
            StreamRecording.Contents c = StreamRecording.read(recording);
            return c.bytes(StreamRecording.FIRST_TO_SECOND).length + c.bytes(StreamRecording.SECOND_TO_FIRST).length;
        } catch (IOException e) {
            return -1;
        }
    }

    private static Proxies proxies(String deviceId) throws Exception {
        return new Proxies(hub, deviceId, "reverse", Map.of("reverse",
                new InetSocketAddress("127.0.0.1", reverser.getLocalPort())), false);
    }

    /** Sends a request through the stream, checks the reversed answer; returns the request. */
    private static byte[] exchange(Proxies proxies, long seed) throws Exception {
        return exchange(proxies.port(), seed);
    }

    private static byte[] exchange(int port, long seed) throws Exception {
        byte[] request = new byte[REQUEST];
        new Random(seed).nextBytes(request);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request);
            InputStream in = s.getInputStream();
            assertArrayEquals(reversed(request), in.readNBytes(REQUEST));
        }
        return request;
    }

    /**
     * The recording once its writer has flushed it: the service's end sent exactly the request, the device's exactly
     * the answer, whichever of the two connected first (a race between the proxies).
     */
    private static StreamRecording.Contents awaitComplete(Path file, byte[] request) throws Exception {
        StreamRecording.Contents c = Await.value(Duration.ofSeconds(30), () -> {
            StreamRecording.Contents read = StreamRecording.read(file);
            return read.bytes(0).length + read.bytes(1).length == 2 * REQUEST ? read : null;
        });
        if (c == null) {
            throw new AssertionError(file + " never held both directions");
        }
        assertTrue(c.header().path("first").asText().matches("device|service"), c.header().toString());
        assertArrayEquals(request, c.bytes(c.sentBy(StreamToken.Side.SERVICE)));
        assertArrayEquals(reversed(request), c.bytes(c.sentBy(StreamToken.Side.DEVICE)));
        return c;
    }

    /**
     * The device's only recording, once its header is written: the gateway's writer creates the file on its own
     * thread, which may still be behind the bytes the stream relayed.
     */
    private static Path theRecordingOf(String deviceId, String what) throws InterruptedException {
        Proxies.await(() -> recordingsOf(deviceId).stream().anyMatch(StreamRecordingTest::hasHeader),
                what + ": no recording");
        List<Path> files = recordingsOf(deviceId);
        assertEquals(1, files.size(), what);
        return files.get(0);
    }

    private static boolean hasHeader(Path recording) {
        try {
            StreamRecording.read(recording);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<Path> recordingsOf(String deviceId) {
        Path dir = dataDir.resolve(HubServer.RECORDINGS_DIR);
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.getFileName().toString().matches("\\d{8}T\\d{6}Z-" + Pattern.quote(deviceId)
                        + "-[0-9a-f]+\\" + StreamRecording.SUFFIX)).forEach(out::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static byte[] reversed(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[bytes.length - 1 - i];
        }
        return out;
    }
}
