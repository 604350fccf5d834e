package io.ferryhub.gateway;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stand-alone gateway's {@code --metrics}: loopback unless the operator names a host. */
class GatewayMetricsBindTest {
    @Test
    void aPortAloneServesOnLoopbackOnly() throws Exception {
        InetSocketAddress bind = GatewayMain.metricsAddress("0");
        assertTrue(bind.getAddress().isLoopbackAddress(), bind.toString());
        try (GatewayFixture fixture = new GatewayFixture()) {
            int port = fixture.server.serveMetrics(bind);
            HttpResponse<String> scraped = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scraped.statusCode());
            assertTrue(scraped.body().contains("ferryhub_gateway_streams_opened_total"), scraped.body());
        }
    }

    @Test
    void aNamedHostIsHonoured() {
        assertTrue(GatewayMain.metricsAddress("0.0.0.0:9464").getAddress().isAnyLocalAddress());
        assertEquals(9464, GatewayMain.metricsAddress("0.0.0.0:9464").getPort());
        assertEquals("127.0.0.1", GatewayMain.metricsAddress("9464").getAddress().getHostAddress());
    }
}
