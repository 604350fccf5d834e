package io.ferryhub.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The official Node.js SDKs, unmodified and pinned in {@code compat-tests/node}: azure-iot-device 1.18.4 over each
 * of its transports (azure-iot-device-mqtt 1.16.4: MQTT on 8883 and over WebSockets on 443;
 * azure-iot-device-amqp 1.14.4: AMQPS on 5671 and over WebSockets on 443; azure-iot-device-http 1.14.4: HTTPS on
 * 443) against azure-iothub 1.16.6 on the back end (Registry over REST; Client over AMQPS, or AMQP over WebSockets
 * beside WebSocket devices, for cloud-to-device messages and feedback, over REST for methods). Every transport sends
 * telemetry and receives cloud-to-device messages; all but HTTP have twins, direct methods and modules (the Node
 * SDK's HTTP transport implements none of them); AMQP and HTTP abandon and reject; self-signed X.509 devices connect
 * over every transport.
 */
class NodeSdkTest {
    private static final String API = "api-version=2021-04-12";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static NodeSdk node;
    static HttpClient http;
    static OwnerCredentials owner;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671");
        node = new NodeSdk(hub.ownerConnectionString(), hub.caCertificate());
        http = HttpClient.newBuilder().sslContext(hub.clientTls()).connectTimeout(Duration.ofSeconds(10)).build();
        owner = OwnerCredentials.parse(hub.ownerConnectionString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    /**
     * The event stream is read over the hub's REST API: azure-iothub has no event reader (IoT Hub hands telemetry to
     * Event Hubs clients, which compat-eventhubs-tests covers).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws", "http"})
    void deviceSendsTelemetry(String transport) throws Exception {
        String deviceId = "node-tel-" + transport;
        JsonNode result = node.run("telemetry", transport, deviceId);
        assertEquals("mid-" + deviceId, result.path("messageId").asText());

        JsonNode event = findEvent("mid-" + deviceId);
        assertNotNull(event, "the telemetry is not in the event stream");
        JsonNode body = JSON.readTree(Base64.getDecoder().decode(event.path("body").asText()));
        assertEquals(21.5, body.path("temperature").asDouble());
        assertEquals(transport, body.path("transport").asText());
        JsonNode system = event.path("systemProperties");
        assertEquals(deviceId, system.path("iothub-connection-device-id").asText());
        assertEquals("application/json", system.path("content-type").asText(), system.toString());
        assertEquals("utf-8", system.path("content-encoding").asText(), system.toString());
        assertEquals("no", event.path("properties").path("alert").asText(), event.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws", "http"})
    void serviceSendsCloudToDeviceMessage(String transport) throws Exception {
        String deviceId = "node-c2d-" + transport;
        JsonNode received = node.run("c2d", transport, deviceId).path("received");
        assertEquals(1, received.size(), received.toString());
        JsonNode message = received.get(0);
        assertEquals("switch on", message.path("data").asText());
        assertEquals("c2d-" + deviceId, message.path("messageId").asText());
        assertEquals("corr-7", message.path("correlationId").asText());
        // the Node SDK's HTTP transport keeps the header's prefix in the property's name; the others strip it
        String color = transport.equals("http") ? "iothub-app-color" : "color";
        assertEquals("blue", message.path("properties").path(color).asText(), message.toString());
        if (!transport.equals("http")) { // the Node SDK's HTTP transport reads no content type from the headers
            assertEquals("text/plain", message.path("contentType").asText(), message.toString());
            assertEquals("utf-8", message.path("contentEncoding").asText(), message.toString());
        }
        assertEquals(0, get("/devices/" + deviceId).path("cloudToDeviceMessageCount").asInt(),
                "the device completed the message: none is left in its queue");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws"})
    void twinReportedAndDesiredProperties(String transport) throws Exception {
        String deviceId = "node-twin-" + transport;
        JsonNode result = node.run("twin", transport, deviceId);
        assertEquals("1.2.3", result.path("reported").path("firmware").asText(), result.toString());
        assertEquals("C", result.path("reported").path("sensor").path("unit").asText(), result.toString());
        assertEquals("eco", result.path("desiredPatch").path("mode").asText(), result.toString());
        assertEquals(3, result.path("desiredPatch").path("level").asInt(), result.toString());
        assertEquals(2, result.path("desiredPatch").path("version").asInt(), result.toString());
        assertEquals("eco", result.path("deviceDesired").path("mode").asText(), result.toString());
        assertEquals("north", result.path("tags").path("site").asText(), result.toString());

        JsonNode twin = get("/twins/" + deviceId);
        assertEquals("1.2.3", twin.path("properties").path("reported").path("firmware").asText(), twin.toString());
        assertEquals("eco", twin.path("properties").path("desired").path("mode").asText(), twin.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws"})
    void serviceInvokesDirectMethod(String transport) throws Exception {
        String deviceId = "node-method-" + transport;
        JsonNode result = node.run("methods", transport, deviceId);
        assertEquals(200, result.path("status").asInt(), result.toString());
        assertEquals(7, result.path("payload").path("applied").asInt(), result.toString());
        assertEquals(deviceId, result.path("payload").path("by").asText(), result.toString());
        assertEquals(1, result.path("requests").size(), result.toString());
        assertEquals("setLevel", result.path("requests").get(0).path("methodName").asText());
        assertEquals(7, result.path("requests").get(0).path("payload").path("level").asInt());
    }

    /**
     * Abandon (the message comes back) and reject (dead-lettered), with full acknowledgement read through
     * azure-iothub's feedback receiver. AMQP and HTTP only: the Node SDK's MQTT transport throws on abandon and reject.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amqp", "amqp-ws", "http"})
    void deviceAbandonsAndRejectsAndTheServiceReadsFeedback(String transport) throws Exception {
        String deviceId = "node-settle-" + transport;
        JsonNode result = node.run("settle", transport, deviceId);
        Map<String, Integer> deliveries = new HashMap<>();
        result.path("deliveries").forEach(id -> deliveries.merge(id.asText(), 1, Integer::sum));
        assertEquals(Map.of("abandon-" + deviceId, 2, "reject-" + deviceId, 1, "ok-" + deviceId, 1), deliveries,
                result.toString());
        Map<String, String> feedback = new HashMap<>();
        result.path("feedback").forEach(r -> feedback.put(r.path("originalMessageId").asText(),
                r.path("statusCode").asText()));
        assertEquals(Map.of("abandon-" + deviceId, "Success", "reject-" + deviceId, "Rejected",
                "ok-" + deviceId, "Success"), feedback, result.toString());
        assertEquals(0, get("/devices/" + deviceId).path("cloudToDeviceMessageCount").asInt());
    }

    /** A module identity: its CBS audience is {@code host%2Fdevices%2F<id>%2Fmodules%2Fm1} over AMQP. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws"})
    void moduleSendsTelemetryAndHasATwinAndMethods(String transport) throws Exception {
        String deviceId = "node-module-" + transport;
        JsonNode result = node.run("module", transport, deviceId);
        JsonNode event = findEvent("mid-" + deviceId);
        assertNotNull(event, "the module's telemetry is not in the event stream");
        assertEquals("from the module",
                new String(Base64.getDecoder().decode(event.path("body").asText()), StandardCharsets.UTF_8));
        assertEquals(deviceId, event.path("systemProperties").path("iothub-connection-device-id").asText());
        assertEquals("m1", event.path("systemProperties").path("iothub-connection-module-id").asText());
        assertEquals("ready", result.path("reported").asText(), result.toString());
        assertEquals(5, result.path("desiredRate").asInt(), result.toString());
        JsonNode method = result.path("method");
        assertEquals(200, method.path("status").asInt(), result.toString());
        assertEquals("hello", method.path("payload").path("pong").asText(), result.toString());
        assertEquals("m1", method.path("payload").path("moduleId").asText(), result.toString());
        assertEquals("hello", method.path("requests").get(0).asText(), result.toString());
        JsonNode twin = get("/twins/" + deviceId + "/modules/m1");
        assertEquals("ready", twin.path("properties").path("reported").path("stage").asText(), twin.toString());
    }

    /**
     * Tokens of six seconds, which the SDK renews while connected (AMQP: a put-token for the same, encoded,
     * audience on the live connection): the links outlive the first token.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"amqp", "amqp-ws", "mqtt"})
    void tokensRenewedWhileConnected(String transport) throws Exception {
        String deviceId = "node-renewal-" + transport;
        JsonNode result = node.run("renewal", transport, deviceId);
        assertEquals(0, result.path("disconnects").size(), result.toString());
        assertEquals("still listening", result.path("received").path(0).asText(), result.toString());
        JsonNode event = findEvent("mid-" + deviceId);
        assertNotNull(event, "the telemetry sent after renewal is not in the event stream");
        assertEquals("after renewal",
                new String(Base64.getDecoder().decode(event.path("body").asText()), StandardCharsets.UTF_8));
    }

    /**
     * A self-signed X.509 device (registered by SHA-256 thumbprint, its certificate and key in the SDK's options):
     * no token at all, the TLS client certificate is the credential, over every transport.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mqtt", "mqtt-ws", "amqp", "amqp-ws", "http"})
    void selfSignedX509DeviceSendsTelemetry(String transport) throws Exception {
        String deviceId = "node-x509-" + transport;
        JsonNode result = node.run("x509", transport, deviceId);
        JsonNode event = findEvent("mid-" + deviceId);
        assertNotNull(event, "the X.509 device's telemetry is not in the event stream");
        assertEquals("{\"x509\":true}",
                new String(Base64.getDecoder().decode(event.path("body").asText()), StandardCharsets.UTF_8));
        JsonNode system = event.path("systemProperties");
        assertEquals(deviceId, system.path("iothub-connection-device-id").asText());
        assertEquals("x509", JSON.readTree(system.path("iothub-connection-auth-method").asText()).path("type")
                .asText(), system.toString());
        assertEquals(64, result.path("thumbprint").asText().length(), result.toString());
    }

    private static String baseUrl() {
        return "https://" + owner.hostName() + ":443";
    }

    /** Reads every partition from the start and returns the event with this message id, or null. */
    private static JsonNode findEvent(String messageId) throws Exception {
        for (JsonNode partition : get("/messages/events/partitions")) {
            String from = "earliest";
            while (true) {
                JsonNode batch = get("/messages/events/partitions/" + partition.path("partitionId").asText()
                        + "?from=" + URLEncoder.encode(from, StandardCharsets.UTF_8) + "&max=1000&waitSeconds=0");
                if (batch.path("events").isEmpty()) {
                    break;
                }
                for (JsonNode event : batch.path("events")) {
                    if (messageId.equals(event.path("systemProperties").path("message-id").asText())) {
                        return event;
                    }
                }
                from = "offset:" + batch.path("nextOffset").asText();
            }
        }
        return null;
    }

    private static JsonNode get(String pathAndQuery) throws Exception {
        String separator = pathAndQuery.contains("?") ? "&" : "?";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + pathAndQuery
                        + separator + API)).header("Authorization", owner.sasToken()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }
}
