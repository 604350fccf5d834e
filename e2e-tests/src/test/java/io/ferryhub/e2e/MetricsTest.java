package io.ferryhub.e2e;

import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus endpoints of the hub and of a stand-alone gateway, scraped with a real HTTP client and parsed as
 * text format 0.0.4: the values move as streams and tunnel channels open, carry bytes, close and are denied.
 */
class MetricsTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;

    @Test
    void hubMetricsFollowStreamsChannelsDenialsAndConnections() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir);
             Proxies proxies = new Proxies(hub, "metered-device", "echo", Map.of(), true)) {
            int port = hub.hub.serveMetrics("127.0.0.1", 0);
            URI metrics = URI.create("http://127.0.0.1:" + port + "/metrics");
            Map<String, Double> before = scrape(metrics);
            assertEquals(0, before.get("ferryhub_gateway_streams_active"));
            assertEquals(1, before.get("ferryhub_devices_connected{protocol=\"mqtt\"}"));
            assertEquals(0, before.get("ferryhub_stream_setup_seconds_count"));

            byte[] payload = new byte[100_000];
            new Random(1).nextBytes(payload);
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(payload);
                assertArrayEquals(payload, s.getInputStream().readNBytes(payload.length));
                Map<String, Double> open = scrape(metrics);
                assertEquals(1, open.get("ferryhub_gateway_streams_active"));
                assertEquals(1, open.get("ferryhub_gateway_streams_opened_total{mode=\"stream\",policy=\"service\"}"));
                assertEquals(1, open.get("ferryhub_stream_requests_total{outcome=\"accepted\",policy=\"service\"}"));
                assertEquals(1, open.get("ferryhub_stream_setup_seconds_count"));
                assertEquals(1, open.get("ferryhub_gateway_stream_pairing_seconds_count"));
                assertEquals(payload.length, open.get("ferryhub_gateway_stream_bytes_total{direction=\"first_to_second\"}"));
                assertEquals(payload.length, open.get("ferryhub_gateway_stream_bytes_total{direction=\"second_to_first\"}"));
            }
            proxies.awaitIdle();
            Map<String, Double> closed = scrape(metrics);
            assertEquals(0, closed.get("ferryhub_gateway_streams_active"));
            assertEquals(1, closed.get("ferryhub_gateway_streams_closed_total{reason=\"end_closed\"}"));
            assertEquals(payload.length, closed.get("ferryhub_gateway_stream_bytes_total{direction=\"first_to_second\"}"),
                    "bytes of ended streams stay counted");

            try (ServiceProxy tunnel = new ServiceProxy(hub.policy("service"),
                    URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                    new ServiceProxy.Target("metered-device", null, "echo", Duration.ZERO, Duration.ofSeconds(30)),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ServiceProxy.Mode.TUNNEL,
                    TunnelConfig.defaults());
                 Socket s = new Socket(InetAddress.getLoopbackAddress(), tunnel.localAddress().getPort())) {
                s.setSoTimeout(20_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write(payload, 0, 1000);
                in.readNBytes(1000);
                Map<String, Double> channelOpen = scrape(metrics);
                assertEquals(1, channelOpen.get("ferryhub_gateway_tunnel_channels_active"));
                assertEquals(1, channelOpen.get("ferryhub_gateway_streams_opened_total{mode=\"tunnel\",policy=\"service\"}"));
                assertEquals(1, channelOpen.get("ferryhub_gateway_tunnel_channels_total{event=\"opened\"}"));
                s.close();
                Proxies.await(() -> scrapeQuietly(metrics).get("ferryhub_gateway_tunnel_channels_active") == 0,
                        "the channel is still counted as open");
                assertEquals(1, scrape(metrics).get("ferryhub_gateway_tunnel_channels_total{event=\"closed\"}"));
            }

            assertEquals(200, hub.owner("PUT", "/ferryhub/devices/metered-device/streamPolicy",
                    "{\"rules\":[{\"name\":\"ssh-only\",\"streams\":[\"ssh\"]}]}", Map.of()).statusCode());
            assertEquals(403, hub.initiate("/twins/metered-device/streams/echo", hub.serviceToken("service"), "0",
                    "5").statusCode());
            assertEquals(1, scrape(metrics).get("ferryhub_stream_requests_total{outcome=\"StreamPolicyNameDenied\",policy=\"service\"}"));

            HttpResponse<String> other = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/devices")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, other.statusCode());
        }
    }

    @Test
    void aStandaloneGatewayServesItsOwnMetrics() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        try (StandaloneGateway gateway = StandaloneGateway.start(new InetSocketAddress("127.0.0.1", 0),
                SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile()).build(),
                GatewayConfig.defaults(key));
             StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                     .withStreamGatewayUrl("wss://localhost:" + gateway.port()));
             Proxies proxies = new Proxies(hub, "far-metered-device", "echo", Map.of(), true)) {
            URI metrics = URI.create("http://127.0.0.1:" + gateway.serveMetrics(
                    new InetSocketAddress("127.0.0.1", 0)) + "/metrics");
            assertEquals(0, scrape(metrics).get("ferryhub_gateway_streams_active"));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
                s.setSoTimeout(20_000);
                s.getOutputStream().write(new byte[5000]);
                s.getInputStream().readNBytes(5000);
                Map<String, Double> open = scrape(metrics);
                assertEquals(1, open.get("ferryhub_gateway_streams_active"));
                assertEquals(5000, open.get("ferryhub_gateway_stream_bytes_total{direction=\"second_to_first\"}"));
            }
            Proxies.await(() -> scrapeQuietly(metrics).get("ferryhub_gateway_streams_active") == 0,
                    "the stand-alone gateway still counts the stream");
            assertTrue(scrape(metrics).get("ferryhub_gateway_streams_closed_total{reason=\"end_closed\"}") >= 1);
        }
    }

    /** Parses the text format: every sample line into series name (with labels) and value; checks the headers. */
    static Map<String, Double> scrape(URI uri) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
                response.headers().firstValue("content-type").orElse(""));
        Map<String, Double> samples = new HashMap<>();
        Map<String, String> types = new HashMap<>();
        for (String line : response.body().split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                types.put(parts[2], parts[3]);
                continue;
            }
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space);
            String family = series.replaceAll("\\{.*", "").replaceAll("_(bucket|sum|count)$", "");
            assertTrue(types.containsKey(family) || types.containsKey(series.replaceAll("\\{.*", "")),
                    "a sample without a TYPE line: " + line);
            samples.put(series, Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    private static Map<String, Double> scrapeQuietly(URI uri) {
        try {
            return scrape(uri);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
