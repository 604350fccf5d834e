package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry REST API over real TLS, as the service SDKs call it. */
class RegistryRestTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withMaxBodyBytes(64 * 1024));
        rest = new RestClient(hub);
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static void assertError(RestClient.Reply reply, int status, int code, String name) {
        assertEquals(status, reply.status(), reply.body());
        assertEquals(name, reply.header("iothub-errorcode"));
        assertEquals("application/json; charset=utf-8", reply.header("content-type"));
        JsonNode outer = reply.json();
        assertEquals("", outer.get("ExceptionMessage").asText());
        JsonNode inner = Json.parse(outer.get("Message").asText());
        assertEquals(code, inner.get("errorCode").asInt());
        assertFalse(inner.get("trackingId").asText().isEmpty());
        assertFalse(inner.get("message").asText().isEmpty());
        assertTrue(inner.get("timestampUtc").asText().endsWith("Z"));
    }

    @Test
    void deviceLifecycleWithEtags() throws Exception {
        RestClient.Reply created = rest.owner("PUT", "/devices/life-1", "{\"deviceId\":\"life-1\"}");
        assertEquals(200, created.status(), created.body());
        assertEquals("application/json; charset=utf-8", created.header("content-type"));
        JsonNode d = created.json();
        assertEquals("life-1", d.get("deviceId").asText());
        assertEquals("enabled", d.get("status").asText());
        assertEquals("Disconnected", d.get("connectionState").asText());
        assertEquals("sas", d.at("/authentication/type").asText());
        assertEquals(32, Base64.getDecoder().decode(d.at("/authentication/symmetricKey/primaryKey").asText()).length);
        assertEquals(32, Base64.getDecoder().decode(d.at("/authentication/symmetricKey/secondaryKey").asText()).length);
        assertTrue(d.at("/authentication/x509Thumbprint/primaryThumbprint").isNull());
        assertEquals("0001-01-01T00:00:00Z", d.get("lastActivityTime").asText());
        assertFalse(d.get("generationId").asText().isEmpty());
        String etag = d.get("etag").asText();

        RestClient.Reply got = rest.owner("GET", "/devices/life-1", null);
        assertEquals(200, got.status());
        assertEquals("\"" + etag + "\"", got.header("etag"));
        assertEquals(d.at("/authentication/symmetricKey/primaryKey"), got.json().at("/authentication/symmetricKey/primaryKey"));

        assertError(rest.owner("PUT", "/devices/life-1", "{\"deviceId\":\"life-1\"}"), 409, 409001,
                "DeviceAlreadyExists");
        assertError(rest.owner("PUT", "/devices/life-1", "{\"deviceId\":\"life-1\"}", Map.of("If-Match", "\"bogus\"")),
                412, 412001, "PreconditionFailed");

        // Node quotes etags (also "*"); Java sends a bare *. Both replace; keys given in the body are kept.
        String key = Base64.getEncoder().encodeToString(new byte[32]);
        RestClient.Reply updated = rest.owner("PUT", "/devices/life-1", "{\"deviceId\":\"life-1\",\"status\":\"disabled\","
                + "\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"" + key + "\"}}}",
                Map.of("If-Match", "\"" + etag + "\""));
        assertEquals(200, updated.status(), updated.body());
        assertEquals("disabled", updated.json().get("status").asText());
        assertEquals(key, updated.json().at("/authentication/symmetricKey/primaryKey").asText());
        assertEquals(d.at("/authentication/symmetricKey/secondaryKey"),
                updated.json().at("/authentication/symmetricKey/secondaryKey"), "unmentioned key kept");
        assertEquals(d.get("generationId"), updated.json().get("generationId"));
        String etag2 = updated.json().get("etag").asText();
        assertNotEquals(etag, etag2);
        assertEquals(200, rest.owner("PUT", "/devices/life-1", "{\"deviceId\":\"life-1\"}", Map.of("If-Match", "*"))
                .status());
        String etag3 = rest.owner("GET", "/devices/life-1", null).json().get("etag").asText();

        assertError(rest.owner("DELETE", "/devices/life-1", null, Map.of("If-Match", etag2)), 412, 412001,
                "PreconditionFailed");
        assertEquals(204, rest.owner("DELETE", "/devices/life-1", null, Map.of("If-Match", etag3)).status());
        assertError(rest.owner("GET", "/devices/life-1", null), 404, 404001, "DeviceNotFound");
        assertError(rest.owner("DELETE", "/devices/life-1", null, Map.of("If-Match", "*")), 404, 404001,
                "DeviceNotFound");
        assertError(rest.owner("PUT", "/devices/life-1", "{}", Map.of("If-Match", "*")), 404, 404001,
                "DeviceNotFound");
    }

    @Test
    void badInputGetsIotHubErrors() throws Exception {
        assertError(rest.owner("PUT", "/devices/bad%20id", "{}"), 400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/" + "x".repeat(129), "{}"), 400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/ok-1", "{not json"), 400, 400006, "IotHubFormatError");
        assertError(rest.owner("PUT", "/devices/ok-1", null), 400, 400005, "ArgumentNull");
        assertError(rest.owner("PUT", "/devices/ok-1", "{\"deviceId\":\"other\"}"), 400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/ok-1", "{\"status\":\"sleeping\"}"), 400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/ok-1",
                "{\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"c2hvcnQ=\"}}}"),
                400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/ok-1",
                "{\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":{\"primaryThumbprint\":\"XYZ\"}}}"),
                400, 400004, "ArgumentInvalid");
        assertError(rest.owner("PUT", "/devices/ok-1", "{\"authentication\":{\"type\":\"magic\"}}"), 400, 400004,
                "ArgumentInvalid");
        assertError(rest.owner("GET", "/no/such/thing", null), 400, 400003, "InvalidOperation");
        assertError(rest.owner("PATCH", "/devices/ok-1", "{}"), 400, 400003, "InvalidOperation");
        assertError(rest.owner("GET", "/devices?top=0", null), 400, 400004, "ArgumentInvalid");
        assertError(rest.owner("GET", "/devices/ok-1", null), 404, 404001, "DeviceNotFound");
    }

    @Test
    void allowedSpecialCharactersAndCaseInsensitiveLiterals() throws Exception {
        String id = "a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r";
        String encoded = io.ferryhub.common.sas.PercentEncoding.encode(id);
        RestClient.Reply created = rest.owner("PUT", "/devices/" + encoded, "{}");
        assertEquals(200, created.status(), created.body());
        assertEquals(id, created.json().get("deviceId").asText());
        assertEquals(200, rest.owner("GET", "/DEVICES/" + encoded, null).status());
        // X-HTTP-Method-Override turns a POST into the method named (the Java service SDK's PATCH).
        assertEquals(204, rest.owner("POST", "/devices/" + encoded, null,
                Map.of("X-HTTP-Method-Override", "DELETE")).status());
    }

    @Test
    void chunkedBodyIsAccepted() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(HubTestSupport.trusting(hub.caCertificatePath())).build();
        byte[] body = "{\"deviceId\":\"chunked-1\"}".getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + hub.httpsPort()
                        + "/devices/chunked-1?api-version=2021-04-12"))
                .header("Authorization", rest.ownerToken())
                .timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("chunked-1", Json.parse(response.body()).get("deviceId").asText());
    }

    @Test
    void oversizedBodyGets413() throws Exception {
        String big = "{\"statusReason\":\"" + "x".repeat(70 * 1024) + "\"}";
        try {
            assertError(rest.owner("PUT", "/devices/big-1", big), 413, 413001, "MessageTooLarge");
        } catch (java.io.IOException resetWhileSending) {
            // The hub closes after answering; a client still sending the body may see the reset instead.
        }
        assertError(rest.owner("GET", "/devices/big-1", null), 404, 404001, "DeviceNotFound");
    }

    @Test
    void listingPagesAndStatistics() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertEquals(200, rest.owner("PUT", "/devices/list-" + i, "{\"status\":\"" + (i == 0 ? "disabled" : "enabled")
                    + "\"}").status());
        }
        List<String> seen = new ArrayList<>();
        String continuation = null;
        do {
            RestClient.Reply page = rest.owner("GET", "/devices?top=2", null,
                    continuation == null ? Map.of() : Map.of("x-ms-continuation", continuation));
            assertEquals(200, page.status(), page.body());
            assertTrue(page.json().size() <= 2);
            page.json().forEach(n -> seen.add(n.get("deviceId").asText()));
            continuation = page.header("x-ms-continuation");
        } while (continuation != null);
        List<String> listed = seen.stream().filter(s -> s.startsWith("list-")).toList();
        assertEquals(List.of("list-0", "list-1", "list-2", "list-3", "list-4"), listed);

        JsonNode stats = rest.owner("GET", "/statistics/devices", null).json();
        long total = stats.get("totalDeviceCount").asLong();
        assertEquals(seen.size(), total);
        assertEquals(total, stats.get("enabledDeviceCount").asLong() + stats.get("disabledDeviceCount").asLong());
        assertTrue(stats.get("disabledDeviceCount").asLong() >= 1);
        assertTrue(stats.get("enabledDeviceCount").asLong() >= 4);
        // the Java service SDK reads the enabled count from this misspelled field
        assertEquals(stats.get("enabledDeviceCount").asLong(), stats.get("enableDeviceCount").asLong());
    }

    @Test
    void modulesBelongToTheirDevice() throws Exception {
        assertError(rest.owner("PUT", "/devices/nodev/modules/m1", "{}"), 404, 404001, "DeviceNotFound");
        assertEquals(200, rest.owner("PUT", "/devices/mod-dev", "{}").status());
        RestClient.Reply m = rest.owner("PUT", "/devices/mod-dev/modules/m1", "{\"moduleId\":\"m1\",\"managedBy\":\"me\"}");
        assertEquals(200, m.status(), m.body());
        assertEquals("mod-dev", m.json().get("deviceId").asText());
        assertEquals("m1", m.json().get("moduleId").asText());
        assertEquals("me", m.json().get("managedBy").asText());
        assertNotNull(m.json().at("/authentication/symmetricKey/primaryKey").asText(null));
        assertError(rest.owner("PUT", "/devices/mod-dev/modules/m1", "{}"), 409, 409301, "ModuleAlreadyExistsOnDevice");
        assertEquals(200, rest.owner("PUT", "/devices/mod-dev/modules/m2", "{}").status());
        JsonNode list = rest.owner("GET", "/devices/mod-dev/modules", null).json();
        assertEquals(2, list.size());
        assertEquals(200, rest.owner("GET", "/devices/mod-dev/modules/m1", null).status());
        assertError(rest.owner("GET", "/devices/mod-dev/modules/m9", null), 404, 404010, "ModuleNotFound");
        assertEquals(204, rest.owner("DELETE", "/devices/mod-dev/modules/m1", null, Map.of("If-Match", "*")).status());
        assertEquals(1, rest.owner("GET", "/devices/mod-dev/modules", null).json().size());
        assertEquals(204, rest.owner("DELETE", "/devices/mod-dev", null, Map.of("If-Match", "*")).status());
        assertEquals(200, rest.owner("PUT", "/devices/mod-dev", "{}").status());
        assertEquals(0, rest.owner("GET", "/devices/mod-dev/modules", null).json().size(), "modules went with the device");
        assertNull(hub.registry().findModule("mod-dev", "m2").orElse(null));
    }

    @Test
    void bulkOperationsReportPerDeviceResults() throws Exception {
        StringBuilder create = new StringBuilder("[");
        for (int i = 0; i < 100; i++) {
            create.append(i == 0 ? "" : ",").append("{\"id\":\"bulk-").append(i).append("\",\"importMode\":\"create\"}");
        }
        RestClient.Reply created = rest.owner("POST", "/devices", create.append("]").toString());
        assertEquals(200, created.status(), created.body());
        assertTrue(created.json().get("isSuccessful").asBoolean());
        assertEquals(0, created.json().get("errors").size());
        assertEquals(200, rest.owner("GET", "/devices/bulk-99", null).status());

        String etag = rest.owner("GET", "/devices/bulk-1", null).json().get("etag").asText();
        RestClient.Reply mixed = rest.owner("POST", "/devices", "["
                + "{\"id\":\"bulk-0\",\"importMode\":\"create\"},"
                + "{\"id\":\"bulk-1\",\"importMode\":\"updateIfMatchETag\",\"eTag\":\"" + etag + "\",\"status\":\"disabled\"},"
                + "{\"id\":\"bulk-2\",\"importMode\":\"deleteIfMatchETag\",\"eTag\":\"stale\"},"
                + "{\"id\":\"bulk-3\",\"importMode\":\"delete\"},"
                + "{\"id\":\"bulk-new\"},"
                + "{\"id\":\"no such/id\",\"importMode\":\"update\"}]");
        assertEquals(200, mixed.status(), mixed.body());
        assertFalse(mixed.json().get("isSuccessful").asBoolean());
        Map<String, Integer> errors = new java.util.HashMap<>();
        mixed.json().get("errors").forEach(e -> errors.put(e.get("deviceId").asText(), e.get("errorCode").asInt()));
        assertEquals(Map.of("bulk-0", 409001, "bulk-2", 412001, "no such/id", 400004), errors);
        assertEquals("disabled", rest.owner("GET", "/devices/bulk-1", null).json().get("status").asText());
        assertEquals(200, rest.owner("GET", "/devices/bulk-2", null).status());
        assertEquals(404, rest.owner("GET", "/devices/bulk-3", null).status());
        assertEquals(200, rest.owner("GET", "/devices/bulk-new", null).status());

        assertError(rest.owner("POST", "/devices", "[{\"id\":\"d\"},{\"id\":\"d\"}]"), 400, 400011,
                "DeviceDefinedMultipleTimes");
        assertError(rest.owner("POST", "/devices", create.toString().replace("]", ",{\"id\":\"x\"}]")), 413, 413002,
                "TooManyDevices");
        assertError(rest.owner("POST", "/devices", "{\"id\":\"d\"}"), 400, 400006, "IotHubFormatError");
        assertError(rest.owner("POST", "/devices", "[{\"id\":\"d\",\"importMode\":\"explode\"}]"), 400, 400004,
                "ArgumentInvalid");
        for (int i = 0; i < 100; i++) {
            rest.owner("DELETE", "/devices/bulk-" + i, null);
        }
        rest.owner("DELETE", "/devices/bulk-new", null);
    }

    /** Raw HTTP/1.1 over TLS: what the JDK client can't send (absolute-form targets, stray upgrades). */
    static String raw(String request) throws Exception {
        javax.net.ssl.SSLSocketFactory f = HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory();
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) f.createSocket("localhost", hub.httpsPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = socket.getInputStream().read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void absoluteFormTargetsAndUnknownUpgrades() throws Exception {
        String reply = raw("GET https://localhost:" + hub.httpsPort() + "/statistics/devices?api-version=2020-09-30"
                + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + rest.ownerToken()
                + "\r\nConnection: close\r\n\r\n");
        assertTrue(reply.startsWith("HTTP/1.1 200 OK"), reply);
        assertTrue(reply.contains("\"totalDeviceCount\""), reply);

        String upgrade = raw("GET /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        assertTrue(upgrade.startsWith("HTTP/1.1 400 Bad Request"), upgrade);
        assertTrue(upgrade.contains("iothub-errorcode: InvalidOperation"), upgrade);

        String badEscape = raw("GET /devices/bad%zzid?api-version=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                + rest.ownerToken() + "\r\nConnection: close\r\n\r\n");
        assertTrue(badEscape.startsWith("HTTP/1.1 400 Bad Request"), badEscape);
        assertTrue(badEscape.contains("iothub-errorcode: IotHubFormatError"), badEscape);
        String badOverride = raw("POST /devices/x HTTP/1.1\r\nHost: localhost\r\nX-HTTP-Method-Override: A B\r\n"
                + "Content-Length: 0\r\nConnection: close\r\n\r\n");
        assertTrue(badOverride.startsWith("HTTP/1.1 400 Bad Request"), badOverride);

        String garbage = raw("THIS IS NOT HTTP\r\n\r\n");
        assertTrue(garbage.isEmpty() || garbage.startsWith("HTTP/1.1 400"), garbage);
    }

    @Test
    void cloudToDeviceMessageCountShowsTheQueueInTheIdentityAndTheTwin() throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/c2d-count", "{}").status());
        assertEquals(0, rest.owner("GET", "/devices/c2d-count", null).json().get("cloudToDeviceMessageCount").asInt());
        for (int i = 0; i < 2; i++) {
            RestClient.Reply sent = rest.owner("POST", "/devices/c2d-count/messages/deviceBound", "{\"n\":" + i + "}");
            assertTrue(sent.status() / 100 == 2, sent.status() + " " + sent.body());
        }
        assertEquals(2, rest.owner("GET", "/devices/c2d-count", null).json().get("cloudToDeviceMessageCount").asInt());
        assertEquals(2, rest.owner("GET", "/twins/c2d-count", null).json().get("cloudToDeviceMessageCount").asInt());
        assertEquals(204, rest.owner("DELETE", "/devices/c2d-count", null).status());
    }
}
