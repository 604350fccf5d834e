package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
import io.ferryhub.testsupport.Await;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub's throttles and daily quota as clients see them over real TLS: IoT Hub's 429 error body for a service
 * route and for HTTPS telemetry, 403002 once the day's messages are used (also after a restart), MQTT telemetry over
 * the quota never acknowledged, a device's twin requests over MQTT answered 429, and cloud-to-device sends costing
 * quota.
 */
@Timeout(120)
class ThrottlingAndQuotaTest {
    private static final String API = "?api-version=2020-09-30";

    private static RestClient.Reply sendEvent(RestClient rest, HubServer hub, String deviceId, String key)
            throws Exception {
        return rest.send("POST", "/devices/" + deviceId + "/messages/events" + API, "{\"n\":1}",
                Map.of("Authorization", HubTestSupport.deviceToken(hub, deviceId, key)));
    }

    @Test
    void serviceRoutesAndHttpsTelemetryOverTheirRateGetIotHubs429(@TempDir Path dir) throws Exception {
        TrafficLimits limits = TrafficLimits.none().withThrottling(
                ThrottleSettings.s1().withSpec("registry=2/min,d2c=3/min"));
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits)) {
            RestClient rest = new RestClient(hub);
            String key = HubTestSupport.register(hub, "throttled-1");
            assertEquals(200, rest.owner("GET", "/devices/throttled-1", null).status());
            assertEquals(404, rest.owner("GET", "/devices/nobody", null).status(), "a refused lookup counts too");
            RestClient.Reply throttled = rest.owner("GET", "/devices/throttled-1", null);
            RegistryRestTest.assertError(throttled, 429, 429001, "ThrottlingException");
            assertTrue(throttled.json().get("Message").asText().contains("registry rate of this hub (2/min)"),
                    throttled.body());
            // another class is not affected: the twin read still passes
            assertEquals(200, rest.owner("GET", "/twins/throttled-1", null).status());

            for (int i = 0; i < 3; i++) {
                assertEquals(204, sendEvent(rest, hub, "throttled-1", key).status());
            }
            RegistryRestTest.assertError(sendEvent(rest, hub, "throttled-1", key), 429, 429001,
                    "ThrottlingException");
            assertEquals(3, HubTestSupport.eventsOf(hub, "throttled-1").size(), "the refused message is not stored");
            assertEquals(1L, hub.throttles().refusedByClass().get("registry"));
            assertEquals(1L, hub.throttles().refusedByClass().get("d2c"));
            assertTrue(hub.metrics().scrape().contains("ferryhub_throttled_operations_total{class=\"d2c\"} 1"),
                    hub.metrics().scrape());
        }
    }

    @Test
    void theDailyQuotaRefusesTelemetryWith403002OnEveryTransportAndSurvivesARestart(@TempDir Path dir)
            throws Exception {
        TrafficLimits limits = TrafficLimits.none().withDailyMessages(4);
        HubConfig config = HubConfig.ephemeral(dir);
        try (HubServer hub = HubServer.start(config, Clock.systemUTC(), limits)) {
            RestClient rest = new RestClient(hub);
            String key = HubTestSupport.register(hub, "quota-http");
            assertEquals(204, sendEvent(rest, hub, "quota-http", key).status());

            // MQTT: three more fit; the one over the quota gets no PUBACK, the connection is closed (the SDKs
            // reconnect and resend, as when IoT Hub drops a device over its quota)
            MqttClient mqtt = connect(hub, "quota-mqtt");
            for (int i = 0; i < 3; i++) {
                mqtt.publish("devices/quota-mqtt/messages/events/", ("m" + i).getBytes(StandardCharsets.UTF_8), 1,
                        false);
            }
            assertThrows(MqttException.class, () -> mqtt.publish("devices/quota-mqtt/messages/events/",
                    "over".getBytes(StandardCharsets.UTF_8), 1, false));
            mqtt.close(true);
            assertEquals(3, HubTestSupport.eventsOf(hub, "quota-mqtt").size());

            RestClient.Reply over = sendEvent(rest, hub, "quota-http", key);
            RegistryRestTest.assertError(over, 403, 403002, "IotHubQuotaExceeded");
            assertTrue(over.json().get("Message").asText().contains("00:00 UTC"), over.body());
            assertEquals(4, hub.dailyQuota().used());
        }
        try (HubServer restarted = HubServer.start(config, Clock.systemUTC(), limits)) {
            assertEquals(4, restarted.dailyQuota().used(), "the day's count is kept across a restart");
            String key = restarted.registry().device("quota-http").authentication().symmetricKey().primaryKey();
            RegistryRestTest.assertError(sendEvent(new RestClient(restarted), restarted, "quota-http", key), 403,
                    403002, "IotHubQuotaExceeded");
        }
    }

    /**
     * A device's twin GET and reported patch over MQTT count against twin-read and twin-update: past the rate the
     * answer is IoT Hub's {@code $iothub/twin/res/429/} (the Java SDK's THROTTLED, retried), the connection stays
     * and the refused patch changes nothing; once the rate allows again the same request passes.
     */
    @Test
    void mqttTwinRequestsOverTheTwinRatesGet429OnTheResponseTopicAndPassOnceTheRateAllows(@TempDir Path dir)
            throws Exception {
        // one every 5 s, burst 1: two requests in a row are refused even on a loaded machine
        TrafficLimits limits = TrafficLimits.none().withThrottling(
                ThrottleSettings.s1().withSpec("twin-read=0.2/s,twin-update=0.2/s"));
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits);
             PahoDevice device = PahoDevice.connect(hub, "twin-throttled")) {
            device.subscribe("$iothub/twin/res/#");
            device.publish("$iothub/twin/GET/?$rid=g1", "");
            assertEquals("$iothub/twin/res/200/?$rid=g1", device.next().topic());
            device.publish("$iothub/twin/GET/?$rid=g2", "");
            PahoDevice.Received throttled = device.next();
            assertEquals("$iothub/twin/res/429/?$rid=g2", throttled.topic());
            assertEquals(429001, Json.parse(throttled.payload()).get("errorCode").asInt(), throttled.payload());
            assertTrue(device.client.isConnected());
            assertAnsweredOnceTheRateAllows(device, "$iothub/twin/GET/?$rid=", "", "200/?$rid=%s");

            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=p1", "{\"fw\":\"1.0\"}");
            assertEquals("$iothub/twin/res/204/?$rid=p1&$version=2", device.next().topic());
            device.publish("$iothub/twin/PATCH/properties/reported/?$rid=p2", "{\"fw\":\"2.0\"}");
            assertEquals("$iothub/twin/res/429/?$rid=p2", device.next().topic());
            assertEquals("1.0", hub.twins().twin("twin-throttled", null).at("/properties/reported/fw").asText(),
                    "the throttled patch changed nothing");
            // the next patch that passes makes reported version 3: the refused one took no version
            assertAnsweredOnceTheRateAllows(device, "$iothub/twin/PATCH/properties/reported/?$rid=",
                    "{\"fw\":\"2.0\"}", "204/?$rid=%s&$version=3");
            assertEquals("2.0", hub.twins().twin("twin-throttled", null).at("/properties/reported/fw").asText());
            assertTrue(hub.throttles().refusedByClass().get("twin-read") >= 1);
            assertTrue(hub.throttles().refusedByClass().get("twin-update") >= 1);
        }
    }

    /** Repeats a twin request until it is answered with {@code expected} (status and query, {@code %s} the rid). */
    private static void assertAnsweredOnceTheRateAllows(PahoDevice device, String topicBeforeRid, String payload,
                                                        String expected) throws InterruptedException {
        AtomicInteger n = new AtomicInteger();
        Await.until("a twin request answered " + expected + " once the rate allows", () -> {
            String rid = "retry" + n.incrementAndGet();
            device.publish(topicBeforeRid + rid, payload);
            String topic = device.next().topic();
            if (topic.startsWith("$iothub/twin/res/429/")) {
                return false;
            }
            assertEquals("$iothub/twin/res/" + expected.formatted(rid), topic);
            return true;
        });
    }

    /** A cloud-to-device send costs daily quota as on IoT Hub: once the day's messages are used it gets 403002. */
    @Test
    void cloudToDeviceSendsCostDailyQuotaAndAreRefusedWith403002OnceItIsUsed(@TempDir Path dir) throws Exception {
        TrafficLimits limits = TrafficLimits.none().withDailyMessages(3);
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits)) {
            RestClient rest = new RestClient(hub);
            String key = HubTestSupport.register(hub, "c2d-quota");
            String c2d = "/devices/c2d-quota/messages/deviceBound" + API;
            assertEquals(2, rest.owner("POST", c2d, "one").status() / 100);
            assertEquals(404, rest.owner("POST", "/devices/nobody/messages/deviceBound" + API, "x").status(),
                    "a send refused for what it is costs nothing");
            assertEquals(1, hub.dailyQuota().used());
            assertEquals(204, sendEvent(rest, hub, "c2d-quota", key).status());
            assertEquals(2, rest.owner("POST", c2d, "two").status() / 100);
            assertEquals(3, hub.dailyQuota().used(), "C2D and D2C share the day's quota");

            RestClient.Reply over = rest.owner("POST", c2d, "three");
            RegistryRestTest.assertError(over, 403, 403002, "IotHubQuotaExceeded");
            assertTrue(over.json().get("Message").asText().contains("00:00 UTC"), over.body());
            assertEquals(2, hub.cloudToDevice().queuedMessages("c2d-quota"), "the refused message is not queued");
            RegistryRestTest.assertError(sendEvent(rest, hub, "c2d-quota", key), 403, 403002,
                    "IotHubQuotaExceeded");
        }
    }

    private static MqttClient connect(HubServer hub, String deviceId) throws Exception {
        String key = HubTestSupport.register(hub, deviceId);
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setSocketFactory(HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory());
        options.setUserName("localhost/" + deviceId + "/?api-version=2021-04-12");
        options.setPassword(HubTestSupport.deviceToken(hub, deviceId, key).toCharArray());
        options.setAutomaticReconnect(false);
        MqttClient client = new MqttClient("ssl://localhost:" + hub.mqttPort(), deviceId, new MemoryPersistence());
        client.setTimeToWait(20_000);
        client.connect(options);
        return client;
    }
}
