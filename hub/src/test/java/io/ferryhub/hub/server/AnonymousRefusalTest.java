package io.ferryhub.hub.server;

import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.CapturedLog;
import io.ferryhub.hub.HubTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * An unauthenticated caller learns nothing from a refusal: an unknown device, an unknown policy, a wrong key and a
 * disabled device all get the same bare 401002 over HTTPS, byte for byte but for the tracking id and time, while the
 * hub's log says which it was.
 */
class AnonymousRefusalTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;
    static String knownKey;
    static String benchedKey;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        rest = new RestClient(hub);
        knownKey = HubTestSupport.register(hub, "known");
        benchedKey = HubTestSupport.register(hub, "benched");
        assertEquals(200, rest.owner("PUT", "/devices/benched", "{\"deviceId\":\"benched\",\"status\":\"disabled\"}",
                Map.of("If-Match", "*")).status());
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static String randomKey() {
        return Base64.getEncoder().encodeToString(new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
    }

    static String deviceToken(String deviceId, String key, String policy) {
        String scope = policy == null ? hub.hostName() + "/devices/" + deviceId : hub.hostName();
        return SasToken.create(scope, key, policy, Instant.now().plusSeconds(3600));
    }

    /** Status, error header, content type and body with the tracking id and timestamps blanked. */
    static String anonymousView(RestClient.Reply reply) {
        var inner = (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(reply.json().get("Message").asText());
        inner.put("trackingId", "-");
        inner.put("timestampUtc", "-");
        var outer = (com.fasterxml.jackson.databind.node.ObjectNode) reply.json();
        outer.put("Message", Json.toString(inner));
        return reply.status() + " " + reply.header("iothub-errorcode") + " " + reply.header("content-type") + " "
                + Json.toString(outer);
    }

    @Test
    void everyRefusalLooksTheSameAndTheLogSaysWhy() throws Exception {
        String owner = hub.policies().find("iothubowner").orElseThrow().primaryKey();
        Map<String, RestClient.Reply> replies = new LinkedHashMap<>();
        try (CapturedLog log = new CapturedLog()) {
            replies.put("unknown device", telemetry("ghost", deviceToken("ghost", randomKey(), null)));
            replies.put("unknown policy", telemetry("known", deviceToken("known", owner, "nosuchpolicy")));
            replies.put("wrong key", telemetry("known", deviceToken("known", randomKey(), null)));
            replies.put("disabled device", telemetry("benched", deviceToken("benched", benchedKey, null)));
            replies.put("no credentials", telemetry("known", null));
            replies.put("service, unknown policy", rest.send("GET", "/devices/known?api-version=2021-04-12", null,
                    Map.of("Authorization", SasToken.create(hub.hostName(), owner, "nosuchpolicy",
                            Instant.now().plusSeconds(3600)))));
            replies.put("service, wrong key", rest.send("GET", "/devices/known?api-version=2021-04-12", null,
                    Map.of("Authorization", SasToken.create(hub.hostName(), randomKey(), "iothubowner",
                            Instant.now().plusSeconds(3600)))));

            // a policy name made to forge a log line of its own
            replies.put("service, forged policy name", rest.send("GET", "/devices/known?api-version=2021-04-12", null,
                    Map.of("Authorization", SasToken.create(hub.hostName(), owner, "x\nERROR forged",
                            Instant.now().plusSeconds(3600)))));

            String expected = anonymousView(replies.get("unknown device"));
            for (var reply : replies.entrySet()) {
                RegistryRestTest.assertError(reply.getValue(), 401, 401002, "IotHubUnauthorizedAccess");
                assertEquals(expected, anonymousView(reply.getValue()), reply.getKey());
            }
            String body = replies.get("unknown device").body();
            assertEquals("Unauthorized.", Json.parse(Json.parse(body).get("Message").asText()).get("message")
                    .asText());
            for (String secret : new String[]{"ghost", "registered", "policy", "key", "disabled"}) {
                assertFalse(body.contains(secret), body);
            }

            // the operator still reads what happened, once per refusal, with the caller's address
            log.awaitContaining("device is not registered");
            log.awaitContaining("unknown shared access policy 'nosuchpolicy'");
            log.awaitContaining("matches neither of the identity's keys");
            log.awaitContaining("device is disabled");
            log.awaitContaining("neither an Authorization header nor a TLS client certificate");
            String text = log.awaitContaining("does not match policy 'iothubowner'");
            assertEquals(1, count(text, "POST /devices/ghost/messages/events from 127.0.0.1 refused: device is not "
                    + "registered"), text);
            assertEquals(1, count(text, "GET /devices/known from 127.0.0.1 refused: unknown shared access policy "
                    + "'nosuchpolicy'"), text);
            String withForgery = log.awaitContaining("unknown shared access policy 'x?ERROR forged'");
            assertFalse(withForgery.contains("\nERROR forged"), withForgery);
        }
    }

    private static RestClient.Reply telemetry(String deviceId, String token) throws Exception {
        return rest.send("POST", "/devices/" + deviceId + "/messages/events?api-version=2020-09-30", "{\"t\":1}",
                token == null ? Map.of() : Map.of("Authorization", token));
    }

    private static int count(String text, String fragment) {
        int n = 0;
        for (int at = text.indexOf(fragment); at >= 0; at = text.indexOf(fragment, at + 1)) {
            n++;
        }
        return n;
    }
}
