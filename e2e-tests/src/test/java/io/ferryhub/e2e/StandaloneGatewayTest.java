package io.ferryhub.e2e;

import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamInfo;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams relayed by a stand-alone gateway on its own port and certificate: the hub's stream URLs point there, and
 * the gateway verifies the hub's tokens with a copy of the hub's stream token key.
 */
class StandaloneGatewayTest {
    @TempDir
    static Path dataDir;
    static StandaloneGateway gateway;
    static StreamTestHub hub;
    static Proxies proxies;

    @BeforeAll
    static void start() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        gateway = StandaloneGateway.start(new InetSocketAddress("127.0.0.1", 0),
                SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile()).build(),
                GatewayConfig.defaults(key));
        hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withStreamGatewayUrl("wss://localhost:" + gateway.port()));
        proxies = new Proxies(hub, "far-device", "echo", Map.of(), true);
    }

    @AfterAll
    static void stop() {
        proxies.close();
        hub.close();
        gateway.close();
    }

    @Test
    void streamsGoThroughTheStandaloneGateway() throws Exception {
        byte[] payload = new byte[1_000_000];
        new Random(5).nextBytes(payload);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(payload);
            assertArrayEquals(payload, socket.getInputStream().readNBytes(payload.length));
            List<StreamInfo> streams = gateway.gateway().streams();
            assertEquals(1, streams.size());
            assertEquals("far-device", streams.get(0).deviceId());
            assertEquals(payload.length, streams.get(0).bytesFirstToSecond());
            assertEquals(payload.length, streams.get(0).bytesSecondToFirst());
            assertTrue(proxies.hubStreams().isEmpty(), "the hub's embedded gateway relays nothing");
        }
        Proxies.await(() -> gateway.gateway().openCount() == 0, "the stand-alone gateway still has the stream");
    }
}
