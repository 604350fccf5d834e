package io.ferryhub.hub.server;

import io.ferryhub.testsupport.Await;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Direct methods: REST calls from the JDK HttpClient, answered by Eclipse Paho devices over MQTT. */
class DirectMethodTest {
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

    /** A device that answers every method with status 200 and {"echo": request payload, "method": name}. */
    private static PahoDevice echoDevice(String clientId) throws Exception {
        PahoDevice device = PahoDevice.connect(hub, clientId);
        device.client.subscribe("$iothub/methods/POST/#", 0, (topic, message) -> {
            String name = topic.split("/")[3];
            String rid = topic.substring(topic.indexOf("?$rid=") + 6);
            String reply = "{\"method\":\"" + name + "\",\"echo\":"
                    + new String(message.getPayload(), StandardCharsets.UTF_8) + "}";
            // answered from another thread: Paho must not publish from its callback thread
            CompletableFuture.runAsync(() -> {
                try {
                    device.client.publish("$iothub/methods/res/200/?$rid=" + rid,
                            new MqttMessage(reply.getBytes(StandardCharsets.UTF_8)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        });
        return device;
    }

    @Test
    void methodReachesTheDeviceAndItsAnswerComesBack() throws Exception {
        try (PahoDevice ignored = echoDevice("pump")) {
            RestClient.Reply reply = rest.owner("POST", "/twins/pump/methods",
                    "{\"methodName\":\"reboot\",\"payload\":{\"delay\":5},\"responseTimeoutInSeconds\":30}");
            assertEquals(200, reply.status(), reply.body());
            JsonNode body = reply.json();
            assertEquals(200, body.get("status").asInt());
            assertEquals("reboot", body.at("/payload/method").asText());
            assertEquals(5, body.at("/payload/echo/delay").asInt());
        }
    }

    @Test
    void moduleMethodAndDeviceStatusPassThrough() throws Exception {
        try (PahoDevice module = PahoDevice.connect(hub, "edge/worker")) {
            module.subscribe("$iothub/methods/POST/#");
            CompletableFuture<RestClient.Reply> call = CompletableFuture.supplyAsync(() -> {
                try {
                    return rest.owner("POST", "/twins/edge/modules/worker/methods",
                            "{\"methodName\":\"calibrate\",\"payload\":\"fast\"}");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            PahoDevice.Received request = module.next();
            assertTrue(request.topic().startsWith("$iothub/methods/POST/calibrate/?$rid="), request.topic());
            assertEquals("\"fast\"", request.payload());
            String rid = request.topic().substring(request.topic().indexOf("?$rid=") + 6);
            module.publish("$iothub/methods/res/417/?$rid=" + rid, "{\"error\":\"busy\"}");
            RestClient.Reply reply = call.get();
            assertEquals(200, reply.status(), reply.body());
            assertEquals(417, reply.json().get("status").asInt());
            assertEquals("busy", reply.json().at("/payload/error").asText());
        }
    }

    @Test
    void offlineDeviceIs404103AndUnknownDevice404001() throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/sleeper", "{\"deviceId\":\"sleeper\"}").status());
        RegistryRestTest.assertError(rest.owner("POST", "/twins/sleeper/methods", "{\"methodName\":\"wake\"}"),
                404, 404103, "DeviceNotOnline");
        RegistryRestTest.assertError(rest.owner("POST", "/twins/ghost/methods", "{\"methodName\":\"wake\"}"),
                404, 404001, "DeviceNotFound");
        // connected but not subscribed to methods is not online for methods
        try (PahoDevice device = PahoDevice.connect(hub, "sleeper")) {
            assertEquals(404, rest.owner("POST", "/twins/sleeper/methods", "{\"methodName\":\"wake\"}").status());
        }
    }

    @Test
    void disabledDeviceIs404001EvenWithAConnectTimeout() throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/benched",
                "{\"deviceId\":\"benched\",\"status\":\"disabled\"}").status());
        // IoT Hub's 404001 is "not registered or disabled": no waiting for a device that cannot connect
        RegistryRestTest.assertError(rest.owner("POST", "/twins/benched/methods",
                "{\"methodName\":\"wake\",\"connectTimeoutInSeconds\":30}"), 404, 404001, "DeviceNotFound");
    }

    @Test
    void connectTimeoutWaitsForTheDeviceToComeOnline() throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/late", "{\"deviceId\":\"late\"}").status());
        CompletableFuture<RestClient.Reply> call = CompletableFuture.supplyAsync(() -> {
            try {
                return rest.owner("POST", "/twins/late/methods",
                        "{\"methodName\":\"hello\",\"payload\":1,\"connectTimeoutInSeconds\":20}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        // the device connects only once the call waits for it
        Await.until("the call waits for the device", () -> hub.deviceConnections().isAwaited("late", null));
        try (PahoDevice ignored = echoDevice("late")) {
            RestClient.Reply reply = call.get();
            assertEquals(200, reply.status(), reply.body());
            assertEquals(1, reply.json().at("/payload/echo").asInt());
        }
    }

    @Test
    void silentDeviceGives504101AndItsLateAnswerIsDropped() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "mute")) {
            device.subscribe("$iothub/methods/POST/#");
            RestClient.Reply reply = rest.owner("POST", "/twins/mute/methods",
                    "{\"methodName\":\"slow\",\"responseTimeoutInSeconds\":5}");
            RegistryRestTest.assertError(reply, 504, 504101, "GatewayTimeout");
            String topic = device.next().topic();
            String rid = topic.substring(topic.indexOf("?$rid=") + 6);
            device.publish("$iothub/methods/res/200/?$rid=" + rid, "{}");
            device.publish("$iothub/methods/res/200/?$rid=999999", "{}");
            // the session stays up; a new call still works
            assertTrue(device.client.isConnected());
        }
    }

    @Test
    void badRequestsAre400() throws Exception {
        try (PahoDevice ignored = echoDevice("strict")) {
            String big = "\"" + "x".repeat(128 * 1024) + "\"";
            String[] bad = {
                    "{\"methodName\":\"m\",\"payload\":" + big + "}",
                    "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":4}",
                    "{\"methodName\":\"m\",\"responseTimeoutInSeconds\":301}",
                    "{\"methodName\":\"m\",\"connectTimeoutInSeconds\":-1}",
                    "{\"methodName\":\"bad name\"}",
                    "{\"methodName\":\"a/b\"}",
            };
            for (String body : bad) {
                RestClient.Reply reply = rest.owner("POST", "/twins/strict/methods", body);
                assertEquals(400, reply.status(), body.length() > 80 ? "big payload" : body);
                assertEquals(400004, reply.errorCode());
            }
            assertEquals(400005, rest.owner("POST", "/twins/strict/methods", "{\"payload\":1}").errorCode());
            assertEquals(400, rest.owner("POST", "/twins/strict/methods", "[1]").status());
            assertEquals(200, rest.owner("POST", "/twins/strict/methods", "{\"methodName\":\"m\",\"payload\":"
                    + "\"" + "x".repeat(128 * 1024 - 10) + "\"}").status());
        }
    }

    @Test
    void manyConcurrentCallsToOneAndManyDevices() throws Exception {
        List<PahoDevice> devices = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            for (int d = 0; d < 4; d++) {
                devices.add(echoDevice("busy" + d));
            }
            List<Future<RestClient.Reply>> calls = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                calls.add(pool.submit(() -> rest.owner("POST", "/twins/busy" + (n % 4) + "/methods",
                        "{\"methodName\":\"m" + n + "\",\"payload\":{\"n\":" + n + "}}")));
            }
            for (int i = 0; i < calls.size(); i++) {
                RestClient.Reply reply = calls.get(i).get();
                assertEquals(200, reply.status(), reply.body());
                assertEquals("m" + i, reply.json().at("/payload/method").asText());
                assertEquals(i, reply.json().at("/payload/echo/n").asInt());
            }
        } finally {
            pool.shutdownNow();
            for (PahoDevice d : devices) {
                d.close();
            }
        }
    }
}
