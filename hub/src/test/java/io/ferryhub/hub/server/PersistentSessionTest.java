package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.sessions.KeyValueSessionStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;
import java.time.Duration;

/**
 * MQTT persistent sessions ({@code cleanSession=false}) across hub restarts on one data directory, including a
 * SIGKILL right after the SUBACK: Eclipse Paho devices over TLS, back-end calls over REST.
 */
class PersistentSessionTest {
    private static final String C2D_FILTER = "devices/%s/messages/devicebound/#";
    private static final String METHODS_FILTER = "$iothub/methods/POST/#";
    private static final String DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";

    @TempDir
    Path dataDir;

    private HubServer startHub() throws HubStartException {
        return HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @Test
    void subscriptionsAcknowledgedBeforeKillMinus9AreResumedWithoutSubscribingAgain() throws Exception {
        String key;
        try (HubServer hub = startHub()) {
            key = HubTestSupport.register(hub, "sess-kill");
        }
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ChildHub.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String[] ready = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))
                    .readLine().split(" ");
            assertEquals("READY", ready[0]);
            try (PahoDevice device = PahoDevice.connect(Integer.parseInt(ready[2]), dataDir.resolve("ca.pem"),
                    "127.0.0.1", "sess-kill", key, false)) {
                assertFalse(device.sessionPresent, "a first connection has no session to resume");
                device.subscribe(C2D_FILTER.formatted("sess-kill"), METHODS_FILTER, DESIRED_FILTER);
                // the SUBACKs came: SIGKILL now, no shutdown hook, no flush
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }

        try (HubServer hub = startHub()) {
            RestClient rest = new RestClient(hub);
            hub.cloudToDevice().send("sess-kill", new OutgoingMessage("away-1", null, null, null, null, Map.of(),
                    "sent while away".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            try (PahoDevice device = PahoDevice.connect(hub.mqttPort(), hub.caCertificatePath(), hub.hostName(),
                    "sess-kill", key, false)) {
                assertTrue(device.sessionPresent, "CONNACK must say the session is present");
                PahoDevice.Received c2d = next(device);
                assertTrue(c2d.topic().startsWith("devices/sess-kill/messages/devicebound/%24.mid=away-1"),
                        c2d.topic());
                assertEquals("sent while away", c2d.payload());
                assertTrue(waitFor(() -> hub.cloudToDevice().queueDepth("sess-kill").join() == 0),
                        "the device completed the message");

                CompletableFuture<RestClient.Reply> call = CompletableFuture.supplyAsync(() -> {
                    try {
                        return rest.owner("POST", "/twins/sess-kill/methods",
                                "{\"methodName\":\"reboot\",\"payload\":{\"delay\":5},\"responseTimeoutInSeconds\":30}");
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                PahoDevice.Received request = next(device);
                assertTrue(request.topic().startsWith("$iothub/methods/POST/reboot/?$rid="), request.topic());
                assertEquals(5, Json.parse(request.payload()).get("delay").asInt());
                String rid = request.topic().substring(request.topic().indexOf("?$rid=") + 6);
                device.publish("$iothub/methods/res/200/?$rid=" + rid, "{\"rebooted\":true}");
                RestClient.Reply reply = call.get(60, TimeUnit.SECONDS);
                assertEquals(200, reply.status(), reply.body());
                assertTrue(reply.json().at("/payload/rebooted").asBoolean(), reply.body());

                RestClient.Reply patched = rest.owner("PATCH", "/twins/sess-kill",
                        "{\"properties\":{\"desired\":{\"led\":\"green\"}}}");
                assertEquals(200, patched.status(), patched.body());
                PahoDevice.Received desired = next(device);
                long version = patched.json().at("/properties/desired/$version").asLong();
                assertEquals("$iothub/twin/PATCH/properties/desired/?$version=" + version, desired.topic());
                JsonNode patch = Json.parse(desired.payload());
                assertEquals("green", patch.get("led").asText());
            }
        }
    }

    @Test
    void aCleanSessionEndsTheStoredOneDurably() throws Exception {
        try (HubServer hub = startHub()) {
            try (PahoDevice device = PahoDevice.connect(hub, "sess-clean", false)) {
                device.subscribe(C2D_FILTER.formatted("sess-clean"));
            }
        }
        assertEquals(List.of("sess-clean"), storedSessions());
        try (HubServer hub = startHub()) {
            try (PahoDevice device = PahoDevice.connect(hub, "sess-clean", false)) {
                assertTrue(device.sessionPresent, "the session survived a restart");
            }
            try (PahoDevice device = PahoDevice.connect(hub, "sess-clean", true)) {
                assertFalse(device.sessionPresent, "a clean session never resumes one");
            }
        }
        assertEquals(List.of(), storedSessions());
        try (HubServer hub = startHub()) {
            hub.cloudToDevice().send("sess-clean", new OutgoingMessage("later-1", null, null, null, null, Map.of(),
                    "after the clean session".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            try (PahoDevice device = PahoDevice.connect(hub, "sess-clean", false)) {
                assertFalse(device.sessionPresent, "the clean session ended the stored one");
                // with no subscription the message waits in the queue; it comes once the device subscribes
                assertEquals(1, hub.cloudToDevice().queueDepth("sess-clean").get(30, TimeUnit.SECONDS));
                assertTrue(device.inbox.isEmpty(), "delivered without a subscription: " + device.inbox);
                device.subscribe(C2D_FILTER.formatted("sess-clean"));
                PahoDevice.Received c2d = next(device);
                assertTrue(c2d.topic().startsWith("devices/sess-clean/messages/devicebound/%24.mid=later-1"),
                        c2d.topic());
                assertEquals("after the clean session", c2d.payload());
            }
        }
    }

    @Test
    void deletingADeviceDeletesItsSessionAndItsModulesSessions() throws Exception {
        try (HubServer hub = startHub()) {
            for (String clientId : List.of("sess-del", "sess-del/worker", "sess-keep")) {
                try (PahoDevice device = PahoDevice.connect(hub, clientId, false)) {
                    device.subscribe(METHODS_FILTER);
                }
            }
        }
        assertEquals(List.of("sess-del", "sess-del/worker", "sess-keep"), storedSessions());
        try (HubServer hub = startHub()) {
            RestClient.Reply deleted = new RestClient(hub).owner("DELETE", "/devices/sess-del", null,
                    Map.of("If-Match", "*"));
            assertEquals(204, deleted.status(), deleted.body());
        }
        assertEquals(List.of("sess-keep"), storedSessions());
        try (HubServer hub = startHub()) {
            // the same ids again: new identities, with no session
            for (String clientId : List.of("sess-del", "sess-del/worker")) {
                try (PahoDevice device = PahoDevice.connect(hub, clientId, false)) {
                    assertFalse(device.sessionPresent, clientId + " inherited a deleted identity's session");
                }
            }
            try (PahoDevice device = PahoDevice.connect(hub, "sess-keep", false)) {
                assertTrue(device.sessionPresent, "another device's session went too");
            }
        }
    }

    private static PahoDevice.Received next(PahoDevice device) throws InterruptedException {
        PahoDevice.Received received = device.inbox.poll(60, TimeUnit.SECONDS);
        assertNotNull(received, "nothing received within 60 s");
        return received;
    }

    private static boolean waitFor(BooleanSupplier condition) throws InterruptedException {
        return Await.within(Duration.ofSeconds(60), condition::getAsBoolean);
    }

    /** The client ids with a stored session, read from the data directory of a stopped hub. */
    private List<String> storedSessions() throws Exception {
        try (JournalStore store = JournalStore.open(dataDir.resolve("registry"))) {
            return new KeyValueSessionStore(store).scan(null, null, 100).stream()
                    .map(e -> e.moduleId() == null ? e.deviceId() : e.deviceId() + "/" + e.moduleId()).toList();
        }
    }
}
