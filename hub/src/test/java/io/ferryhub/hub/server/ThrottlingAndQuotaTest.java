package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub's throttles and daily quota as clients see them over real TLS: IoT Hub's 429 error body for a service
 * route and for HTTPS telemetry, 403002 once the day's messages are used (also after a restart), MQTT telemetry over
 * the quota never acknowledged.
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
