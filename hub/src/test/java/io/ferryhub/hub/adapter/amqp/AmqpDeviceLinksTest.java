package io.ferryhub.hub.adapter.amqp;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Twin and direct-method link pairs against a Proton-J client over real TLS, as the Java device SDK opens them;
 * direct methods are invoked through the hub's REST API by the JDK HTTP client.
 */
class AmqpDeviceLinksTest {
    private static final Symbol CHANNEL_CORRELATION_ID = Symbol.valueOf("com.microsoft:channel-correlation-id");
    private static final Symbol API_VERSION = Symbol.valueOf("com.microsoft:api-version");
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;
    static HttpClient http;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
        http = HttpClient.newBuilder().sslContext(tls).build();
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

    /** A client authorised (CBS) for the device ({@code d}) or module ({@code d/m}). */
    private static ProtonClient connect(String clientId, String key) throws Exception {
        ProtonClient client = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null);
        assertTrue(client.awaitOpen());
        assertEquals(200, client.putToken(hub.hostName() + "/devices/" + clientId.replace("/", "/modules/"),
                HubTestSupport.deviceToken(hub, clientId, key)));
        return client;
    }

    /**
     * The pair the Java SDK opens on a device node: one link each way, same channel correlation id (the helpers
     * from here to {@link #ask} serve other tests of device links too).
     */
    record Pair(Sender requests, Receiver replies) {
    }

    static Pair openPair(ProtonClient client, String address, String prefix) throws Exception {
        Map<Symbol, Object> properties = Map.of(CHANNEL_CORRELATION_ID, prefix + UUID.randomUUID(),
                API_VERSION, "2020-09-30");
        Sender sender = client.openSender(address, properties);
        Receiver receiver = client.openReceiver(address, 10, properties);
        assertNull(sender.getRemoteCondition().getCondition());
        assertNull(receiver.getRemoteCondition().getCondition());
        assertNotNull(sender.getRemoteTarget(), "the hub refused " + address);
        assertNotNull(receiver.getRemoteSource(), "the hub refused " + address);
        return new Pair(sender, receiver);
    }

    static Message twinRequest(UUID correlationId, String operation, String resource, String body) {
        Message m = ProtonClient.message(body == null ? "" : body);
        Properties properties = new Properties();
        properties.setMessageId(UUID.randomUUID());
        properties.setCorrelationId(correlationId);
        m.setProperties(properties);
        Map<Symbol, Object> annotations = resource == null
                ? Map.of(Symbol.valueOf("operation"), operation)
                : Map.of(Symbol.valueOf("operation"), operation, Symbol.valueOf("resource"), resource);
        m.setMessageAnnotations(new MessageAnnotations(annotations));
        return m;
    }

    static Object annotation(Message m, String key) {
        return m.getMessageAnnotations().getValue().get(Symbol.valueOf(key));
    }

    static String bodyOf(Message m) {
        Binary b = ((Data) m.getBody()).getValue();
        return new String(b.getArray(), b.getArrayOffset(), b.getLength(), StandardCharsets.UTF_8);
    }

    /** Sends a twin request, checks the hub accepted the transfer, and returns its answer. */
    static Message ask(ProtonClient client, Pair twin, String operation, String resource, String body)
            throws Exception {
        UUID id = UUID.randomUUID();
        DeliveryState outcome = client.send(twin.requests(), twinRequest(id, operation, resource, body));
        assertInstanceOf(Accepted.class, outcome);
        Message reply = client.receive(twin.replies(), true);
        assertNotNull(reply, "no answer to " + operation);
        assertEquals(id, reply.getCorrelationId());
        return reply;
    }

    @Test
    void twinGetReportedPatchAndDesiredNotifications() throws Exception {
        String key = register("amqp-twin");
        try (ProtonClient client = connect("amqp-twin", key)) {
            Pair twin = openPair(client, "/devices/amqp-twin/twin", "twin:");

            Message subscribed = ask(client, twin, "PUT", "/notifications/twin/properties/desired", null);
            assertEquals(200, ((Number) annotation(subscribed, "status")).intValue());

            Message patched = ask(client, twin, "PATCH", "/properties/reported", "{\"temperature\":21.5}");
            assertEquals(204, ((Number) annotation(patched, "status")).intValue());
            long reportedVersion = ((Number) annotation(patched, "version")).longValue();

            Message got = ask(client, twin, "GET", null, null);
            assertEquals(200, ((Number) annotation(got, "status")).intValue());
            JsonNode doc = Json.parse(bodyOf(got).getBytes(StandardCharsets.UTF_8));
            assertEquals(21.5, doc.at("/reported/temperature").asDouble());
            assertEquals(reportedVersion, doc.at("/reported/$version").asLong());
            assertTrue(doc.has("desired"));

            hub.twins().update("amqp-twin", null, Json.parse("{\"properties\":{\"desired\":{\"fan\":3}}}"
                    .getBytes(StandardCharsets.UTF_8)), null);
            Message desired = client.receive(twin.replies(), true);
            assertNotNull(desired, "no desired-property notification");
            assertNull(desired.getCorrelationId());
            JsonNode patch = Json.parse(bodyOf(desired).getBytes(StandardCharsets.UTF_8));
            assertEquals(3, patch.get("fan").asInt());
            assertEquals(patch.get("$version").asLong(), ((Number) annotation(desired, "version")).longValue());

            Message unsubscribed = ask(client, twin, "DELETE", "/notifications/twin/properties/desired", null);
            assertEquals(200, ((Number) annotation(unsubscribed, "status")).intValue());
        }
    }

    @Test
    void moduleTwinAndRefusedRequestsAnswerWithIotHubErrors() throws Exception {
        String key = register("amqp-edge/sensor");
        try (ProtonClient client = connect("amqp-edge/sensor", key)) {
            Pair twin = openPair(client, "/devices/amqp-edge/modules/sensor/twin", "twin:");

            Message notJson = ask(client, twin, "PATCH", "/properties/reported", "{not json");
            assertEquals(400, ((Number) annotation(notJson, "status")).intValue());
            assertEquals(400006, Json.parse(bodyOf(notJson).getBytes(StandardCharsets.UTF_8))
                    .get("errorCode").asInt());

            Message unknown = ask(client, twin, "POST", "/properties/reported", "{}");
            assertEquals(400, ((Number) annotation(unknown, "status")).intValue());
            assertEquals(400004, Json.parse(bodyOf(unknown).getBytes(StandardCharsets.UTF_8))
                    .get("errorCode").asInt());

            Message reported = ask(client, twin, "PATCH", "/properties/reported", "{\"mode\":\"eco\"}");
            assertEquals(204, ((Number) annotation(reported, "status")).intValue());
            assertEquals("eco", hub.twins().twin("amqp-edge", "sensor").at("/properties/reported/mode").asText());

            Message uncorrelated = twinRequest(null, "GET", null, null);
            uncorrelated.getProperties().setCorrelationId(null);
            DeliveryState refused = client.send(twin.requests(), uncorrelated);
            assertInstanceOf(Rejected.class, refused);
            assertEquals("com.microsoft:argument-error",
                    ((Rejected) refused).getError().getCondition().toString());
        }
    }

    private static CompletableFuture<HttpResponse<String>> invoke(String path, String body) {
        String token = HubTestSupport.ownerToken(hub);
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + hub.httpsPort() + path
                        + "?api-version=2021-04-12"))
                .header("Authorization", token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    /** A device's answer to a hub request: its correlation id, one application property, the body. */
    private static Message answer(Message request, String property, Object value, String body) {
        Message answer = ProtonClient.message(body);
        Properties properties = new Properties();
        properties.setCorrelationId(request.getCorrelationId());
        answer.setProperties(properties);
        answer.setApplicationProperties(new ApplicationProperties(Map.of(property, value)));
        return answer;
    }

    /** The device's answer as the Java SDK builds it: the request's correlation id and IoThub-status. */
    private static Message methodAnswer(Message request, int status, String body) {
        return answer(request, "IoThub-status", status, body);
    }

    @Test
    void directMethodFromRestReachesTheDeviceAndItsStatusComesBack() throws Exception {
        String key = register("amqp-pump");
        try (ProtonClient client = connect("amqp-pump", key)) {
            Pair methods = openPair(client, "/devices/amqp-pump/methods/devicebound", "methods:");
            CompletableFuture<HttpResponse<String>> call = invoke("/twins/amqp-pump/methods",
                    "{\"methodName\":\"reboot\",\"payload\":{\"delay\":5},\"responseTimeoutInSeconds\":30}");

            Message request = client.receive(methods.replies(), true);
            assertNotNull(request, "no method request");
            assertEquals("reboot", request.getApplicationProperties().getValue().get("IoThub-methodname"));
            assertInstanceOf(UUID.class, request.getCorrelationId());
            assertEquals(5, Json.parse(bodyOf(request).getBytes(StandardCharsets.UTF_8)).get("delay").asInt());

            assertInstanceOf(Accepted.class, client.send(methods.requests(),
                    methodAnswer(request, 201, "{\"rebooting\":true}")));

            HttpResponse<String> response = call.get(20, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
            JsonNode result = Json.parse(response.body().getBytes(StandardCharsets.UTF_8));
            assertEquals(201, result.get("status").asInt());
            assertTrue(result.at("/payload/rebooting").asBoolean());
        }
    }

    @Test
    void moduleMethodAndADeviceThatStoppedListeningIsNotOnline() throws Exception {
        String key = register("amqp-gw/relay");
        try (ProtonClient client = connect("amqp-gw/relay", key)) {
            Pair methods = openPair(client, "/devices/amqp-gw/modules/relay/methods/devicebound", "methods:");
            CompletableFuture<HttpResponse<String>> call = invoke("/twins/amqp-gw/modules/relay/methods",
                    "{\"methodName\":\"flush\",\"payload\":null,\"responseTimeoutInSeconds\":30}");
            Message request = client.receive(methods.replies(), true);
            assertNotNull(request, "no method request");
            assertEquals("flush", request.getApplicationProperties().getValue().get("IoThub-methodname"));
            client.send(methods.requests(), methodAnswer(request, 404, ""));
            HttpResponse<String> response = call.get(20, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
            assertEquals(404, Json.parse(response.body().getBytes(StandardCharsets.UTF_8)).get("status").asInt());

            // with one link of the pair gone, the device no longer listens for methods
            methods.replies().close();
            client.awaitDetach(methods.replies());
            HttpResponse<String> offline = invoke("/twins/amqp-gw/modules/relay/methods",
                    "{\"methodName\":\"flush\",\"responseTimeoutInSeconds\":5}").get(20, TimeUnit.SECONDS);
            assertEquals(404, offline.statusCode(), offline.body());
            assertTrue(offline.body().contains("404103"), offline.body());
        }
    }

    /** A stream request over the hub's REST route, as the service SDKs initiate one. */
    private static CompletableFuture<HttpResponse<String>> initiateStream(String deviceId, String streamName) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + hub.httpsPort() + "/twins/"
                        + deviceId + "/streams/" + streamName + "?api-version=2020-09-30"))
                .header("Authorization", HubTestSupport.ownerToken(hub))
                .header("iothub-streaming-connect-timeout-in-seconds", "5")
                .header("iothub-streaming-response-timeout-in-seconds", "30")
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The device's accept or reject as the C SDK builds it: one space as body. */
    private static Message streamAnswer(Message request, boolean accepted) {
        return answer(request, "IoThub-streaming-is-accepted", accepted, " ");
    }

    @Test
    void streamRequestsReachTheDeviceAndItsAcceptOrRejectComesBack() throws Exception {
        String key = register("amqp-ssh");
        try (ProtonClient client = connect("amqp-ssh", key)) {
            Pair streams = openPair(client, "/devices/amqp-ssh/streams", "streams:");
            CompletableFuture<HttpResponse<String>> accepted = initiateStream("amqp-ssh", "ssh");
            Message request = client.receive(streams.replies(), true);
            assertNotNull(request, "no stream request");
            Map<String, Object> properties = request.getApplicationProperties().getValue();
            assertEquals("ssh", properties.get("IoThub-streaming-name"));
            String url = (String) properties.get("IoThub-streaming-url");
            String token = (String) properties.get("IoThub-streaming-auth-token");
            assertTrue(url.startsWith("wss://"), url);
            assertInstanceOf(UUID.class, request.getCorrelationId());
            assertInstanceOf(Accepted.class, client.send(streams.requests(), streamAnswer(request, true)));
            HttpResponse<String> response = accepted.get(20, TimeUnit.SECONDS);
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

            CompletableFuture<HttpResponse<String>> rejected = initiateStream("amqp-ssh", "rdp");
            Message second = client.receive(streams.replies(), true);
            assertNotNull(second, "no second stream request");
            assertEquals("rdp", second.getApplicationProperties().getValue().get("IoThub-streaming-name"));
            client.send(streams.requests(), streamAnswer(second, false));
            HttpResponse<String> refusal = rejected.get(20, TimeUnit.SECONDS);
            assertEquals(200, refusal.statusCode(), refusal.body());
            assertEquals("False", refusal.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());

            // without its streams links the device is not online for streams
            streams.replies().close();
            client.awaitDetach(streams.replies());
        }
        HttpResponse<String> offline = initiateStream("amqp-ssh", "ssh").get(30, TimeUnit.SECONDS);
        assertEquals(404, offline.statusCode(), offline.body());
    }

    @Test
    void deviceLinksNeedTheirOwnGrantAndAKnownNode() throws Exception {
        String key = register("amqp-own");
        register("amqp-other");
        try (ProtonClient client = connect("amqp-own", key)) {
            Sender foreign = client.openSender("/devices/amqp-other/twin");
            ErrorCondition unauthorized = client.awaitDetach(foreign);
            assertNotNull(unauthorized);
            assertEquals("amqp:unauthorized-access", unauthorized.getCondition().toString());

            Receiver foreignMethods = client.openReceiver("/devices/amqp-other/methods/devicebound", 1);
            assertEquals("amqp:unauthorized-access",
                    client.awaitDetach(foreignMethods).getCondition().toString());

            Sender unknown = client.openSender("/devices/amqp-own/twins");
            assertEquals("amqp:not-found", client.awaitDetach(unknown).getCondition().toString());
        }
        try (ProtonClient client = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null,
                null)) {
            assertTrue(client.awaitOpen());
            String audience = hub.hostName() + "/devices/amqp-own";
            String badToken = HubTestSupport.deviceToken(hub, "amqp-own",
                    Base64.getEncoder().encodeToString(new byte[32]));
            assertEquals(401, client.putToken(audience, badToken));
            Receiver twin = client.openReceiver("/devices/amqp-own/twin", 1);
            assertEquals("amqp:unauthorized-access", client.awaitDetach(twin).getCondition().toString());
        }
    }

    private static JsonNode claims(String jwt) {
        return Json.parse(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
    }
}
