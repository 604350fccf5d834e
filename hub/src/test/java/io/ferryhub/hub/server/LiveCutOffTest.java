package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.common.sas.SasToken;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Disabling, deleting or re-keying a device through the REST API takes effect at once: its live MQTT connection
 * (Paho) is cut and its old credentials no longer connect.
 */
class LiveCutOffTest {
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

    /** A connected device and a latch that opens when the hub drops it. */
    record Connected(MqttClient client, CountDownLatch lost, String token) {
    }

    static String token(String deviceId) throws Exception {
        String key = rest.owner("GET", "/devices/" + deviceId, null).json()
                .at("/authentication/symmetricKey/primaryKey").asText();
        return SasToken.create(hub.hostName() + "/devices/" + deviceId, key, null, Instant.now().plusSeconds(3600));
    }

    static MqttClient client(String deviceId) throws Exception {
        return new MqttClient("ssl://localhost:" + hub.mqttPort(), deviceId, new MemoryPersistence());
    }

    static MqttConnectOptions options(String deviceId, String token) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setUserName(hub.hostName() + "/" + deviceId + "/?api-version=2021-04-12");
        options.setPassword(token.toCharArray());
        options.setSocketFactory(HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory());
        options.setCleanSession(false);
        options.setAutomaticReconnect(false);
        options.setConnectionTimeout(10);
        return options;
    }

    static Connected connect(String deviceId) throws Exception {
        assertEquals(200, rest.owner("PUT", "/devices/" + deviceId, "{}").status());
        String token = token(deviceId);
        MqttClient client = client(deviceId);
        CountDownLatch lost = new CountDownLatch(1);
        client.setCallback(new MqttCallback() {
            public void connectionLost(Throwable cause) {
                lost.countDown();
            }

            public void messageArrived(String topic, MqttMessage message) {
            }

            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        client.connect(options(deviceId, token));
        assertEquals("Connected", rest.owner("GET", "/devices/" + deviceId, null).json().get("connectionState").asText());
        return new Connected(client, lost, token);
    }

    static void assertCutAndRefused(String deviceId, Connected c) throws Exception {
        assertTrue(c.lost().await(30, TimeUnit.SECONDS), "the live connection was not cut");
        c.client().close(true);
        MqttClient again = client(deviceId);
        try {
            MqttException e = assertThrows(MqttException.class, () -> again.connect(options(deviceId, c.token())));
            assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, e.getReasonCode(), e.toString());
        } finally {
            again.close(true);
        }
    }

    @Test
    void disablingCutsTheConnection() throws Exception {
        Connected c = connect("cut-disable");
        assertEquals(200, rest.owner("PUT", "/devices/cut-disable", "{\"status\":\"disabled\"}",
                Map.of("If-Match", "*")).status());
        assertCutAndRefused("cut-disable", c);
        assertEquals("Disconnected", rest.owner("GET", "/devices/cut-disable", null).json()
                .get("connectionState").asText());
    }

    @Test
    void reKeyingCutsTheConnection() throws Exception {
        Connected c = connect("cut-rekey");
        String newKey = Base64.getEncoder().encodeToString(new byte[32]);
        assertEquals(200, rest.owner("PUT", "/devices/cut-rekey", "{\"authentication\":{\"type\":\"sas\","
                + "\"symmetricKey\":{\"primaryKey\":\"" + newKey + "\",\"secondaryKey\":\"" + newKey + "\"}}}",
                Map.of("If-Match", "*")).status());
        assertCutAndRefused("cut-rekey", c);
    }

    @Test
    void deletingCutsTheConnection() throws Exception {
        Connected c = connect("cut-delete");
        assertEquals(204, rest.owner("DELETE", "/devices/cut-delete", null).status());
        assertCutAndRefused("cut-delete", c);
    }

    @Test
    void anUnrelatedUpdateLeavesTheConnectionUp() throws Exception {
        Connected c = connect("keep-up");
        assertEquals(200, rest.owner("PUT", "/devices/keep-up", "{\"statusReason\":\"just a note\"}",
                Map.of("If-Match", "*")).status());
        c.client().publish("devices/keep-up/messages/events/", new MqttMessage("still here".getBytes()));
        assertEquals(1, c.lost().getCount(), "the connection survived an update that changes no credential");
        c.client().disconnect();
        c.client().close();
    }
}
