package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.PercentEncoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IoT Hub's device stream wire protocol, driven only by clients we did not write: Paho as the device, the JDK
 * HttpClient as the back-end, Java-WebSocket as both stream ends. Asserts the exact strings the SDKs depend on.
 */
class StreamWireTest {
    @TempDir
    static Path dataDir;
    static StreamTestHub hub;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    private static Map<String, String> query(String topic) {
        String[] levels = topic.split("/");
        assertEquals(5, levels.length, "a stream request topic has exactly five levels: " + topic);
        assertTrue(levels[4].startsWith("?"), topic);
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : levels[4].substring(1).split("&")) {
            int eq = pair.indexOf('=');
            fields.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        return fields;
    }

    private CompletableFuture<HttpResponse<String>> post(String path, String connect, String response) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return hub.initiate(path, hub.serviceToken("service"), connect, response);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void acceptedStreamCarriesTheExactHeadersAndRelaysBytes() throws Exception {
        ConnectionString device = hub.createDevice("wire-accept");
        try (PahoDevice paho = new PahoDevice(device, hub.mqttPort(), hub.jdkTls)) {
            CompletableFuture<HttpResponse<String>> posted = post("/twins/wire-accept/streams/TestStream", "5",
                    "30");
            String topic = paho.nextRequest();
            assertTrue(topic.startsWith("$iothub/streams/POST/TestStream/?$rid="), topic);
            Map<String, String> q = query(topic);
            assertEquals(Set.of("$rid", "$url", "$auth", "$ip"), q.keySet());
            String url = PercentEncoding.decode(q.get("$url"));
            String token = q.get("$auth");
            assertTrue(token.matches("[A-Za-z0-9_\\-.]+"), "the token is URL-safe: " + token);
            assertTrue(url.startsWith("wss://" + hub.host() + ":" + hub.httpsPort() + "/bridges/"), url);
            paho.answer(q.get("$rid"), 200);

            HttpResponse<String> response = posted.get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
            assertEquals("True", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
            assertEquals(url, response.headers().firstValue("iothub-streaming-url").orElseThrow());
            String serviceToken = response.headers().firstValue("iothub-streaming-auth-token").orElseThrow();
            // each end has its own token, naming the same stream and its side
            JsonNode deviceClaims = claims(token);
            JsonNode serviceClaims = claims(serviceToken);
            assertEquals("device", deviceClaims.path("side").asText());
            assertEquals("service", serviceClaims.path("side").asText());
            assertEquals(deviceClaims.path("jti"), serviceClaims.path("jti"));
            assertEquals(1, response.headers().allValues("iothub-streaming-url").size());

            WebSocketPeer deviceEnd = WebSocketPeer.connect(URI.create(url), token, hub.jdkTls);
            WebSocketPeer serviceEnd = WebSocketPeer.connect(URI.create(url), serviceToken, hub.jdkTls);
            byte[] hello = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII);
            deviceEnd.send(hello);
            assertArrayEquals(hello, serviceEnd.read(hello.length));
            byte[] big = new byte[200_000];
            new Random(3).nextBytes(big);
            serviceEnd.send(big);
            assertArrayEquals(big, deviceEnd.read(big.length));
            serviceEnd.closeBlocking();
            assertEquals(1000, deviceEnd.closed.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void rejectedStreamSaysFalseWithoutUrlOrToken() throws Exception {
        ConnectionString device = hub.createDevice("wire-reject");
        try (PahoDevice paho = new PahoDevice(device, hub.mqttPort(), hub.jdkTls)) {
            CompletableFuture<HttpResponse<String>> posted = post("/twins/wire-reject/streams/rdp", "0", "30");
            paho.answer(query(paho.nextRequest()).get("$rid"), 400);
            HttpResponse<String> response = posted.get(30, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode());
            assertEquals("False", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
            assertFalse(response.headers().firstValue("iothub-streaming-url").isPresent());
            assertFalse(response.headers().firstValue("iothub-streaming-auth-token").isPresent());
        }
    }

    @Test
    void deviceThatNeverAnswersTimesOutWith504101() throws Exception {
        ConnectionString device = hub.createDevice("wire-silent");
        try (PahoDevice paho = new PahoDevice(device, hub.mqttPort(), hub.jdkTls)) {
            CompletableFuture<HttpResponse<String>> posted = post("/twins/wire-silent/streams/ssh", "0", "0.5");
            String rid = query(paho.nextRequest()).get("$rid");
            HttpResponse<String> response = posted.get(30, TimeUnit.SECONDS);
            assertEquals(504, response.statusCode(), response.body());
            assertEquals(504101, StreamTestHub.errorCode(response));
            paho.answer(rid, 200); // late: dropped, and the connection stays up
            assertTrue(paho.client.isConnected());
        }
    }

    @Test
    void unknownDeviceIs404001() throws Exception {
        HttpResponse<String> response = hub.initiate("/twins/no-such-device/streams/ssh",
                hub.serviceToken("service"), "0", "5");
        assertEquals(404, response.statusCode());
        assertEquals(404001, StreamTestHub.errorCode(response));
    }

    @Test
    void disabledDeviceIs404001() throws Exception {
        hub.createDevice("wire-disabled");
        hub.disableDevice("wire-disabled");
        HttpResponse<String> response = hub.initiate("/twins/wire-disabled/streams/ssh",
                hub.serviceToken("service"), "1", "5");
        assertEquals(404, response.statusCode());
        assertEquals(404001, StreamTestHub.errorCode(response)); // IoT Hub: "not registered or disabled"
    }

    @Test
    void offlineDeviceWithoutConnectTimeoutIs404103() throws Exception {
        hub.createDevice("wire-offline");
        HttpResponse<String> response = hub.initiate("/twins/wire-offline/streams/ssh",
                hub.serviceToken("service"), null, "5");
        assertEquals(404, response.statusCode());
        assertEquals(404103, StreamTestHub.errorCode(response));
    }

    @Test
    void offlineDeviceThatConnectsWithinTheConnectTimeoutGetsTheRequest() throws Exception {
        ConnectionString device = hub.createDevice("wire-late");
        CompletableFuture<HttpResponse<String>> posted = post("/twins/wire-late/streams/ssh", "20", "20");
        // the device connects only once the request waits for it
        Await.until("the stream request waits for the device",
                () -> hub.hub.deviceConnections().isAwaited("wire-late", null));
        try (PahoDevice paho = new PahoDevice(device, hub.mqttPort(), hub.jdkTls)) {
            paho.answer(query(paho.nextRequest()).get("$rid"), 200);
            HttpResponse<String> response = posted.get(30, TimeUnit.SECONDS);
            assertEquals("True", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
        }
    }

    @Test
    void offlineDeviceThatStaysOfflineIs404103AfterTheConnectTimeout() throws Exception {
        hub.createDevice("wire-away");
        HttpResponse<String> response = hub.initiate("/twins/wire-away/streams/ssh", hub.serviceToken("service"),
                "0.3", "5");
        assertEquals(404, response.statusCode());
        assertEquals(404103, StreamTestHub.errorCode(response));
    }

    @Test
    void serviceTokenWithoutServiceConnectIs401() throws Exception {
        hub.createDevice("wire-noperm");
        HttpResponse<String> response = hub.initiate("/twins/wire-noperm/streams/ssh",
                hub.serviceToken("registryRead"), "0", "5");
        assertEquals(401, response.statusCode());
        assertEquals(401002, StreamTestHub.errorCode(response));
    }

    @Test
    void negativeTimeoutIsABadRequest() throws Exception {
        hub.createDevice("wire-negative");
        HttpResponse<String> response = hub.initiate("/twins/wire-negative/streams/ssh",
                hub.serviceToken("service"), "-1", "5");
        assertEquals(400, response.statusCode());
        assertEquals(400004, StreamTestHub.errorCode(response));
    }

    @Test
    void moduleStreamReachesTheModule() throws Exception {
        hub.createDevice("wire-edge");
        ConnectionString module = hub.createModule("wire-edge", "tunnel");
        try (PahoDevice paho = new PahoDevice(module, hub.mqttPort(), hub.jdkTls)) {
            CompletableFuture<HttpResponse<String>> posted = post("/twins/wire-edge/modules/tunnel/streams/ssh",
                    "0", "30");
            Map<String, String> q = query(paho.nextRequest());
            assertTrue(PercentEncoding.decode(q.get("$url")).contains("/bridges/" + hub.host()
                    + "/wire-edge/modules/tunnel/"), q.get("$url"));
            paho.answer(q.get("$rid"), 200);
            assertEquals("True", posted.get(30, TimeUnit.SECONDS).headers()
                    .firstValue("iothub-streaming-is-accepted").orElseThrow());
        }
    }

    private static JsonNode claims(String jwt) {
        return Json.parse(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
    }
}
