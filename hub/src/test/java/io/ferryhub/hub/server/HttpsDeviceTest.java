package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IoT Hub's HTTPS device API through the JDK's HTTP client over real TLS: telemetry in and polled C2D out. */
class HttpsDeviceTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        rest = new RestClient(hub);
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static String register(String deviceId) {
        return HubTestSupport.register(hub, deviceId);
    }

    private static List<StoredEvent> eventsOf(String deviceId) throws Exception {
        return HubTestSupport.eventsOf(hub, deviceId);
    }

    private static String token(String resourcePath, String key) {
        return SasToken.create(hub.hostName() + resourcePath, key, null, Instant.now().plusSeconds(3600));
    }

    private static RestClient.Reply call(String method, String path, String body, String token,
                                         Map<String, String> extra) throws Exception {
        Map<String, String> headers = new HashMap<>(extra);
        if (token != null) {
            headers.put("Authorization", token);
        }
        return rest.send(method, path + (path.contains("?") ? "&" : "?") + "api-version=2020-09-30", body, headers);
    }

    @Test
    void singleAndBatchTelemetryKeepTheirProperties() throws Exception {
        String key = register("http-d1");
        String token = token("/devices/http-d1", key);
        RestClient.Reply single = call("POST", "/devices/http-d1/messages/events", "{\"t\":21}", token, Map.of(
                "iothub-messageid", "mid-1", "iothub-correlationid", "cid-1", "iothub-contenttype",
                "application/json", "iothub-app-k1", "v1", "iothub-to", "/devices/http-d1/messages/events"));
        assertEquals(204, single.status(), single.body());

        String batch = "[{\"body\":\"" + Base64.getEncoder().encodeToString("b1".getBytes(StandardCharsets.UTF_8))
                + "\",\"base64Encoded\":true,\"properties\":{\"iothub-app-n\":\"1\",\"iothub-messageid\":\"m-b1\"}},"
                + "{\"body\":\"plain\",\"properties\":{\"iothub-app-n\":\"2\"}}]";
        RestClient.Reply batched = call("POST", "/devices/http-d1/messages/events", batch, token,
                Map.of("Content-Type", "application/vnd.microsoft.iothub.json"));
        assertEquals(204, batched.status(), batched.body());

        List<StoredEvent> events = eventsOf("http-d1");
        assertEquals(3, events.size());
        var first = events.get(0).data();
        assertEquals("{\"t\":21}", new String(first.body(), StandardCharsets.UTF_8));
        assertEquals("mid-1", first.systemProperties().get("message-id"));
        assertEquals("cid-1", first.systemProperties().get("correlation-id"));
        assertEquals("application/json", first.systemProperties().get("content-type"));
        assertEquals("v1", first.applicationProperties().get("k1"));
        assertEquals("b1", new String(events.get(1).data().body(), StandardCharsets.UTF_8));
        assertEquals("m-b1", events.get(1).data().systemProperties().get("message-id"));
        assertEquals("1", events.get(1).data().applicationProperties().get("n"));
        assertEquals("plain", new String(events.get(2).data().body(), StandardCharsets.UTF_8));
        assertEquals("2", events.get(2).data().applicationProperties().get("n"));
    }

    @Test
    void aBatchOfMoreThan500MessagesIsRefusedWhole() throws Exception {
        String key = register("http-batch");
        String token = token("/devices/http-batch", key);
        Map<String, String> batchType = Map.of("Content-Type", "application/vnd.microsoft.iothub.json");
        // the most a batch may hold is accepted, every message stored
        RestClient.Reply full = call("POST", "/devices/http-batch/messages/events", emptyMessages(500), token,
                batchType);
        assertEquals(204, full.status(), full.body());
        assertEquals(500, eventsOf("http-batch").size());

        // one more and none is taken: IoT Hub's 400 ArgumentInvalid, saying what the limit is
        RestClient.Reply over = call("POST", "/devices/http-batch/messages/events", emptyMessages(501), token,
                batchType);
        RegistryRestTest.assertError(over, 400, 400004, "ArgumentInvalid");
        assertTrue(over.body().contains("at most 500"), over.body());
        // far more empty messages (all within the 256 KB a batch may weigh) are refused as quickly
        RestClient.Reply many = call("POST", "/devices/http-batch/messages/events", emptyMessages(20_000), token,
                batchType);
        RegistryRestTest.assertError(many, 400, 400004, "ArgumentInvalid");
        assertEquals(500, eventsOf("http-batch").size());
    }

    private static String emptyMessages(int count) {
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"body\":\"\"}");
        }
        return batch.append(']').toString();
    }

    @Test
    void moduleTelemetryIsStampedWithTheModule() throws Exception {
        register("http-d2");
        String moduleKey = hub.registry().putModule("http-d2", "m1", new Module("http-d2", "m1", null, null, null,
                null), null).authentication().symmetricKey().primaryKey();
        RestClient.Reply reply = call("POST", "/devices/http-d2/modules/m1/messages/events", "hi",
                token("/devices/http-d2/modules/m1", moduleKey), Map.of());
        assertEquals(204, reply.status(), reply.body());
        List<StoredEvent> events = eventsOf("http-d2");
        assertEquals(1, events.size());
        assertEquals("m1", events.get(0).data().systemProperties().get("iothub-connection-module-id"));
    }

    @Test
    void badCredentialsAreRefused() throws Exception {
        String key = register("http-d3");
        register("http-d4");
        assertEquals(401002, call("POST", "/devices/http-d3/messages/events", "x", null, Map.of()).errorCode());
        // a token of another device
        RestClient.Reply other = call("POST", "/devices/http-d4/messages/events", "x",
                token("/devices/http-d3", key), Map.of());
        assertEquals(401, other.status());
        assertEquals(401002, other.errorCode());
        RestClient.Reply expired = call("GET", "/devices/http-d3/messages/deviceBound", null,
                SasToken.create(hub.hostName() + "/devices/http-d3", key, null, Instant.now().minusSeconds(5)),
                Map.of());
        assertEquals(401002, expired.errorCode());
        assertTrue(eventsOf("http-d4").isEmpty());
    }

    /** The headers the Java device SDK reads a message's content type and encoding from. */
    @Test
    void cloudToDeviceCarriesContentTypeAndEncoding() throws Exception {
        String key = register("http-c2d-ct");
        String token = token("/devices/http-c2d-ct", key);
        hub.cloudToDevice().send("http-c2d-ct", new OutgoingMessage("typed", null, null, "none", null, Map.of(),
                "{}".getBytes(StandardCharsets.UTF_8), "application/json", "utf-8")).get(30, TimeUnit.SECONDS);
        RestClient.Reply typed = call("GET", "/devices/http-c2d-ct/messages/deviceBound", null, token, Map.of());
        assertEquals(200, typed.status());
        assertEquals("typed", typed.header("iothub-messageid"));
        assertEquals("application/json", typed.header("iothub-contenttype"));
        assertEquals("utf-8", typed.header("iothub-contentencoding"));
    }

    @Test
    void cloudToDeviceIsPolledAndSettled() throws Exception {
        String key = register("http-c2d");
        String token = token("/devices/http-c2d", key);
        assertEquals(204, call("GET", "/devices/http-c2d/messages/deviceBound", null, token, Map.of()).status());

        for (String id : List.of("a", "b", "c")) {
            hub.cloudToDevice().send("http-c2d", new OutgoingMessage(id, "corr-" + id, null, "full", null,
                    Map.of("color", "red"), ("body-" + id).getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        }
        // path case as the Java SDK writes it
        RestClient.Reply a = call("GET", "/devices/http-c2d/messages/devicebound", null, token, Map.of());
        assertEquals(200, a.status());
        assertEquals("body-a", a.body());
        assertEquals("a", a.header("iothub-messageid"));
        assertEquals("corr-a", a.header("iothub-correlationid"));
        assertEquals("red", a.header("iothub-app-color"));
        assertEquals("1", a.header("iothub-deliverycount"));
        String etagA = a.header("ETag");
        assertNotNull(etagA);
        assertTrue(etagA.startsWith("\"") && etagA.endsWith("\""), etagA);

        // abandon: it comes back with a higher delivery count
        assertEquals(204, call("POST", "/devices/http-c2d/messages/deviceBound/" + unquote(etagA) + "/abandon",
                null, token, Map.of()).status());
        RestClient.Reply again = call("GET", "/devices/http-c2d/messages/deviceBound", null, token, Map.of());
        assertEquals("a", again.header("iothub-messageid"));
        assertEquals("2", again.header("iothub-deliverycount"));
        // complete (quoted etag, percent-encoded, as some SDKs send it)
        assertEquals(204, call("DELETE", "/devices/http-c2d/messages/deviceBound/%22" + unquote(again.header("ETag"))
                + "%22", null, token, Map.of()).status());
        // completing twice: the lock is gone
        RestClient.Reply twice = call("DELETE", "/devices/http-c2d/messages/deviceBound/"
                + unquote(again.header("ETag")), null, token, Map.of());
        assertEquals(412, twice.status());
        assertEquals(412002, twice.errorCode());

        RestClient.Reply b = call("GET", "/devices/http-c2d/messages/deviceBound", null, token, Map.of());
        assertEquals("b", b.header("iothub-messageid"));
        assertEquals(204, call("DELETE", "/devices/http-c2d/messages/deviceBound/" + unquote(b.header("ETag"))
                + "?reject", null, token, Map.of()).status());
        RestClient.Reply c = call("GET", "/devices/http-c2d/messages/deviceBound", null, token, Map.of());
        assertEquals("c", c.header("iothub-messageid"));
        // the Java SDK's form of the reject flag
        assertEquals(204, call("DELETE", "/devices/http-c2d/messages/deviceBound/" + unquote(c.header("ETag"))
                + "?api-version=2020-09-30&?reject", null, token, Map.of()).status());
        assertEquals(204, call("GET", "/devices/http-c2d/messages/deviceBound", null, token, Map.of()).status());

        // the sender asked for full feedback: one success, two rejections
        RestClient.Reply feedback = rest.owner("GET", "/messages/serviceBound/feedback", null);
        assertEquals(200, feedback.status());
        Map<String, String> statusById = new HashMap<>();
        for (JsonNode record : feedback.json()) {
            statusById.put(record.get("originalMessageId").asText(), record.get("statusCode").asText());
        }
        assertEquals(Map.of("a", "Success", "b", "Rejected", "c", "Rejected"), statusById);
    }

    private static String unquote(String etag) {
        return etag.replace("\"", "");
    }
}
