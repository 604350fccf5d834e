package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Bytes through both proxies and the hub to the device proxy's echo target and back, in many odd-sized chunks. */
class EchoStreamTest {
    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static Proxies proxies;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        proxies = new Proxies(hub, "echo-device", "echo", Map.of(), true);
    }

    @AfterAll
    static void stop() {
        proxies.close();
        hub.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 64 * 1024, 10_000_000})
    void echoesEveryByteAndTheGatewayCountsThem(int size) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(30_000);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    Random random = new Random(size);
                    OutputStream out = socket.getOutputStream();
                    for (int left = size; left > 0; ) {
                        byte[] chunk = new byte[Math.min(left, 1 + random.nextInt(9000))];
                        random.nextBytes(chunk);
                        sent.update(chunk);
                        out.write(chunk);
                        left -= chunk.length;
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            MessageDigest received = MessageDigest.getInstance("SHA-256");
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[65536];
            for (int got = 0; got < size; ) {
                int n = in.read(buf, 0, Math.min(buf.length, size - got));
                if (n < 0) {
                    throw new AssertionError("stream ended after " + got + " of " + size + " bytes");
                }
                received.update(buf, 0, n);
                got += n;
            }
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(sent.digest(), received.digest());

            JsonNode streams = proxies.hubStreams();
            assertEquals(1, streams.size(), streams.toString());
            JsonNode stream = streams.get(0);
            assertEquals("echo-device", stream.get("deviceId").asText());
            assertEquals("echo", stream.get("streamName").asText());
            assertEquals("service", stream.get("initiatedBy").asText());
            assertEquals("relaying", stream.get("state").asText());
            assertEquals(size, stream.get("bytesFirstToSecond").asLong());
            assertEquals(size, stream.get("bytesSecondToFirst").asLong());
        }
        proxies.awaitIdle();
    }
}
