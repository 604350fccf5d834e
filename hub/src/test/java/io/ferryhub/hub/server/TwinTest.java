package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.ferryhub.hub.storage.eventlog.EventReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device and module twins over real REST (JDK HttpClient) and MQTT (Eclipse Paho as the device). */
class TwinTest {
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
        hub.close();
    }

    private static void createDevice(String id) throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/" + id, "{\"deviceId\":\"" + id + "\"}").status());
    }

    @Test
    void newTwinHasIdentityFieldsAndEmptySectionsAtVersionOne() throws Exception {
        createDevice("fresh");
        RestClient.Reply reply = rest.owner("GET", "/twins/fresh", null);
        assertEquals(200, reply.status(), reply.body());
        JsonNode twin = reply.json();
        assertEquals("fresh", twin.get("deviceId").asText());
        assertEquals("enabled", twin.get("status").asText());
        assertEquals("Disconnected", twin.get("connectionState").asText());
        assertEquals("sas", twin.get("authenticationType").asText());
        assertEquals(1, twin.get("version").asLong());
        assertEquals("AAAAAAAAAAE=", twin.get("etag").asText());
        assertEquals("\"AAAAAAAAAAE=\"", reply.header("etag"));
        assertEquals(0, twin.get("tags").size());
        assertEquals(1, twin.at("/properties/desired/$version").asLong());
        assertEquals(1, twin.at("/properties/reported/$version").asLong());
        assertEquals(404, rest.owner("GET", "/twins/nosuch", null).status());
        assertEquals(404010, rest.owner("GET", "/twins/fresh/modules/nosuch", null).errorCode());
    }

    @Test
    void patchMergesDeletesWithNullAndKeepsMetadata() throws Exception {
        createDevice("merge");
        RestClient.Reply first = rest.owner("PATCH", "/twins/merge", """
                {"tags":{"site":{"building":"43","floor":2}},"properties":{"desired":{"fan":{"speed":3,"mode":"auto"},"led":true}}}""");
        assertEquals(200, first.status(), first.body());
        JsonNode twin = first.json();
        assertEquals(2, twin.get("version").asLong());
        assertEquals(2, twin.at("/properties/desired/$version").asLong());
        assertEquals("43", twin.at("/tags/site/building").asText());
        assertEquals(2, twin.at("/properties/desired/$metadata/fan/speed/$lastUpdatedVersion").asLong());
        assertTrue(twin.at("/properties/desired/$metadata/fan/$lastUpdated").asText().endsWith("Z"));

        JsonNode second = rest.owner("PATCH", "/twins/merge", """
                {"tags":{"site":{"floor":null}},"properties":{"desired":{"fan":{"speed":5,"mode":null}}}}""").json();
        assertEquals(3, second.get("version").asLong());
        assertEquals(3, second.at("/properties/desired/$version").asLong());
        assertEquals("43", second.at("/tags/site/building").asText());
        assertFalse(second.at("/tags/site").has("floor"));
        assertEquals(5, second.at("/properties/desired/fan/speed").asInt());
        assertFalse(second.at("/properties/desired/fan").has("mode"));
        assertFalse(second.at("/properties/desired/$metadata/fan").has("mode"));
        assertTrue(second.at("/properties/desired/led").asBoolean());
        assertEquals(2, second.at("/properties/desired/$metadata/led/$lastUpdatedVersion").asLong());

        // a tags-only patch leaves the desired version alone
        JsonNode third = rest.owner("PATCH", "/twins/merge", "{\"tags\":{\"x\":1}}").json();
        assertEquals(3, third.at("/properties/desired/$version").asLong());
        assertEquals(4, third.get("version").asLong());
    }

    @Test
    void putReplacesTagsAndDesired() throws Exception {
        createDevice("replace");
        rest.owner("PATCH", "/twins/replace", "{\"tags\":{\"a\":1,\"b\":2},\"properties\":{\"desired\":{\"x\":1}}}");
        JsonNode replaced = rest.owner("PUT", "/twins/replace",
                "{\"tags\":{\"c\":3},\"properties\":{\"desired\":{\"y\":2}}}").json();
        assertEquals(Json.parse("{\"c\":3}"), replaced.get("tags"));
        assertFalse(replaced.at("/properties/desired").has("x"));
        assertEquals(2, replaced.at("/properties/desired/y").asInt());
        assertEquals(3, replaced.at("/properties/desired/$version").asLong());
    }

    @Test
    void ifMatchIsCheckedQuotedOrNotAndStar() throws Exception {
        createDevice("etags");
        String etag = rest.owner("GET", "/twins/etags", null).json().get("etag").asText();
        RestClient.Reply stale = rest.owner("PATCH", "/twins/etags", "{\"tags\":{\"a\":1}}",
                Map.of("If-Match", "\"AAAAAAAAAAk=\""));
        RegistryRestTest.assertError(stale, 412, 412001, "PreconditionFailed");
        assertEquals(1, rest.owner("GET", "/twins/etags", null).json().get("version").asLong());
        RestClient.Reply ok = rest.owner("PATCH", "/twins/etags", "{\"tags\":{\"a\":1}}", Map.of("If-Match", etag));
        assertEquals(200, ok.status(), ok.body());
        assertNotEquals(etag, ok.json().get("etag").asText());
        RestClient.Reply reused = rest.owner("PUT", "/twins/etags", "{\"tags\":{}}",
                Map.of("If-Match", "\"" + etag + "\""));
        assertEquals(412, reused.status());
        assertEquals(200, rest.owner("PUT", "/twins/etags", "{\"tags\":{}}", Map.of("If-Match", "*")).status());
    }

    @Test
    void invalidPatchesAre400AndChangeNothing() throws Exception {
        createDevice("rules");
        rest.owner("PATCH", "/twins/rules", "{\"tags\":{\"keep\":1}}");
        String deep = "{\"a\":".repeat(12) + "1" + "}".repeat(12);
        String[] bad = {
                "{\"tags\":{\"a.b\":1}}",
                "{\"tags\":{\"a b\":1}}",
                "{\"tags\":{\"$a\":1}}",
                "{\"tags\":{\"ok\":2},\"properties\":{\"desired\":{\"bad key\":1}}}",
                "{\"properties\":{\"desired\":" + deep + "}}",
                "{\"tags\":{\"big\":\"" + "x".repeat(4097) + "\"}}",
                "{\"tags\":{\"n\":9007199254740993}}",
                "{\"properties\":{\"reported\":{\"r\":1}}}",
                "{\"tags\":5}",
                "{\"tags\":{\"zones\":[\"a\",\"b\"]}}",
                "{\"properties\":{\"desired\":{\"deep\":{\"list\":[]}}}}",
        };
        for (String patch : bad) {
            RestClient.Reply reply = rest.owner("PATCH", "/twins/rules", patch);
            RegistryRestTest.assertError(reply, 400, 400004, "ArgumentInvalid");
        }
        StringBuilder tooBig = new StringBuilder("{\"tags\":{");
        for (int i = 0; i < 3; i++) {
            tooBig.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("y".repeat(3000))
                    .append('"');
        }
        RegistryRestTest.assertError(rest.owner("PATCH", "/twins/rules", tooBig + "}}"), 400, 400004,
                "ArgumentInvalid");
        assertEquals(400, rest.owner("PATCH", "/twins/rules", "{not json").status());
        JsonNode twin = rest.owner("GET", "/twins/rules", null).json();
        assertEquals(Json.parse("{\"keep\":1}"), twin.get("tags"));
        assertEquals(2, twin.get("version").asLong());
        assertEquals(1, twin.at("/properties/desired/$version").asLong());
    }

    @Test
    void deviceGetsReportsAndReceivesDesiredInVersionOrder() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "thermo")) {
            device.subscribe("$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#");
            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=r1&$version=1", "{\"temp\":{\"c\":21.5}}");
            PahoDevice.Received patched = device.next();
            assertEquals("$iothub/twin/res/204/?$rid=r1&$version=2", patched.topic());
            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=r2", "{\"temp\":{\"c\":null},\"fw\":\"1.2\"}");
            assertEquals("$iothub/twin/res/204/?$rid=r2&$version=3", device.next().topic());

            List<Integer> sent = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                rest.owner("PATCH", "/twins/thermo", "{\"properties\":{\"desired\":{\"setpoint\":" + i + "}}}");
                sent.add(i);
            }
            for (int i = 1; i <= 20; i++) {
                PahoDevice.Received n = device.next();
                assertEquals("$iothub/twin/PATCH/properties/desired/?$version=" + (i + 1), n.topic());
                JsonNode body = Json.parse(n.payload());
                assertEquals(i, body.get("setpoint").asInt());
                assertEquals(i + 1, body.get("$version").asInt());
            }

            device.publish("$iothub/twin/GET/?$rid=g1", "");
            PahoDevice.Received got = device.next();
            assertEquals("$iothub/twin/res/200/?$rid=g1", got.topic());
            JsonNode view = Json.parse(got.payload());
            assertEquals(21, view.at("/desired/$version").asInt());
            assertEquals(20, view.at("/desired/setpoint").asInt());
            assertEquals(3, view.at("/reported/$version").asInt());
            assertEquals("1.2", view.at("/reported/fw").asText());
            assertEquals(0, view.at("/reported/temp").size());
            assertFalse(view.has("tags"));

            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=bad", "{\"a.b\":1}");
            assertEquals("$iothub/twin/res/400/?$rid=bad", device.next().topic());
            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=bad2", "not json");
            assertEquals("$iothub/twin/res/400/?$rid=bad2", device.next().topic());
            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=bad3", "{\"list\":{\"ok\":1,\"xs\":[1,2]}}");
            assertEquals("$iothub/twin/res/400/?$rid=bad3", device.next().topic());
            assertTrue(device.client.isConnected());

            JsonNode twin = rest.owner("GET", "/twins/thermo", null).json();
            assertEquals("Connected", twin.get("connectionState").asText());
            assertEquals("1.2", twin.at("/properties/reported/fw").asText());
            assertTrue(twin.at("/properties/reported/$metadata/fw/$lastUpdated").asText().endsWith("Z"));
            assertEquals(23, twin.get("version").asLong());
        }
    }

    @Test
    void concurrentPatchesReachTheDeviceInVersionOrder() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "racer")) {
            device.subscribe("$iothub/twin/PATCH/properties/desired/#");
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<RestClient.Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int n = i;
                replies.add(pool.submit(() -> rest.owner("PATCH", "/twins/racer",
                        "{\"properties\":{\"desired\":{\"k" + n % 5 + "\":" + n + "}}}")));
            }
            for (var reply : replies) {
                assertEquals(200, reply.get().status());
            }
            pool.shutdown();
            int last = 1;
            for (int i = 0; i < 40; i++) {
                PahoDevice.Received n = device.next();
                int version = Json.parse(n.payload()).get("$version").asInt();
                assertEquals(last + 1, version, "notifications out of order");
                assertEquals("$iothub/twin/PATCH/properties/desired/?$version=" + version, n.topic());
                last = version;
            }
        }
    }

    @Test
    void moduleTwinsAreSeparateAndGoWithTheirIdentity() throws Exception {
        try (PahoDevice module = PahoDevice.connect(hub, "gw/sensor")) {
            module.subscribe("$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#");
            JsonNode patched = rest.owner("PATCH", "/twins/gw/modules/sensor",
                    "{\"properties\":{\"desired\":{\"rate\":5}}}").json();
            assertEquals("sensor", patched.get("moduleId").asText());
            PahoDevice.Received n = module.next();
            assertEquals("$iothub/twin/PATCH/properties/desired/?$version=2", n.topic());
            assertEquals(5, Json.parse(n.payload()).get("rate").asInt());
            assertFalse(rest.owner("GET", "/twins/gw", null).json().at("/properties/desired").has("rate"));
        }
        assertEquals(204, rest.owner("DELETE", "/devices/gw/modules/sensor", null, Map.of("If-Match", "*")).status());
        assertEquals(404, rest.owner("GET", "/twins/gw/modules/sensor", null).status());
        assertEquals(200, rest.owner("PUT", "/devices/gw/modules/sensor", "{\"moduleId\":\"sensor\"}").status());
        JsonNode reborn = rest.owner("GET", "/twins/gw/modules/sensor", null).json();
        assertEquals(1, reborn.get("version").asLong());
        assertFalse(reborn.at("/properties/desired").has("rate"));
    }

    @Test
    void everyChangeIsKeptAsATwinChangeEvent() throws Exception {
        createDevice("evented");
        rest.owner("PATCH", "/twins/evented", "{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"d\":2}}}");
        rest.owner("PUT", "/twins/evented", "{\"tags\":{\"b\":3}}");
        hub.twins().reportProperties("evented", null, Json.parse("{\"r\":4}"));
        List<StoredEvent> mine = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (mine.size() < 3 && System.nanoTime() < deadline) {
            mine.clear();
            try (EventReader reader = hub.twinChangeEvents().openReader(0, StartPosition.earliest())) {
                for (List<StoredEvent> batch = reader.poll(1000, Duration.ofMillis(200)); !batch.isEmpty();
                     batch = reader.poll(1000, Duration.ofMillis(50))) {
                    batch.stream().filter(e -> "evented".equals(e.data().applicationProperties().get("deviceId")))
                            .forEach(mine::add);
                }
            }
        }
        assertEquals(3, mine.size());
        EventData update = mine.get(0).data();
        assertEquals("twinChangeEvents", update.systemProperties().get("iothub-message-source"));
        assertEquals("updateTwin", update.applicationProperties().get("opType"));
        assertEquals("twinChangeNotification", update.applicationProperties().get("iothub-message-schema"));
        assertEquals(hub.hostName(), update.applicationProperties().get("hubName"));
        JsonNode body = Json.parse(update.body());
        assertEquals(2, body.get("version").asInt());
        assertEquals(1, body.at("/tags/a").asInt());
        assertEquals(2, body.at("/properties/desired/d").asInt());
        assertEquals(2, body.at("/properties/desired/$version").asInt());
        assertEquals("replaceTwin", mine.get(1).data().applicationProperties().get("opType"));
        assertEquals(Json.parse("{\"b\":3}"), Json.parse(mine.get(1).data().body()).get("tags"));
        JsonNode reported = Json.parse(mine.get(2).data().body());
        assertEquals(4, reported.at("/properties/reported/r").asInt());
        assertEquals(2, reported.at("/properties/reported/$version").asInt());
    }

    @Test
    void twinsSurviveARestart() throws Exception {
        createDevice("durable");
        rest.owner("PATCH", "/twins/durable", "{\"tags\":{\"t\":\"v\"},\"properties\":{\"desired\":{\"d\":1}}}");
        hub.close();
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        rest = new RestClient(hub);
        JsonNode twin = rest.owner("GET", "/twins/durable", null).json();
        assertEquals("v", twin.at("/tags/t").asText());
        assertEquals(2, twin.at("/properties/desired/$version").asLong());
    }
}
