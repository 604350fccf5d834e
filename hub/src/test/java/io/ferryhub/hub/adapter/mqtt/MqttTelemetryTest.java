package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Telemetry over MQTT with Eclipse Paho and mosquitto_pub, read back from the event stream. */
class MqttTelemetryTest {
    private static MqttTestHub hub;
    private final List<MqttClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        hub = new MqttTestHub();
    }

    @AfterAll
    static void stop() throws Exception {
        hub.close();
    }

    @AfterEach
    void closeClients() throws MqttException {
        for (MqttClient client : clients) {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 1000);
            }
            client.close(true);
        }
    }

    private MqttConnectOptions options(String clientId) throws Exception {
        String key = hub.keys.containsKey(clientId) ? hub.keys.get(clientId) : hub.register(clientId);
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(false);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setUserName(MqttTestHub.HOST + "/" + clientId + "/?api-version=2020-09-30");
        options.setPassword(hub.token(clientId, key).toCharArray());
        return options;
    }

    private MqttClient connected(String clientId) throws Exception {
        MqttClient client = new MqttClient(hub.uri(), clientId, new MemoryPersistence());
        clients.add(client);
        client.setTimeToWait(10_000);
        client.connect(options(clientId));
        return client;
    }

    @Test
    void systemAndApplicationPropertiesAreStoredWithTheBodyByteForByte() throws Exception {
        MqttClient client = connected("tel-dev");
        byte[] body = new byte[1000];
        new Random(7).nextBytes(body);
        // Java SDK style ($ literal) and C/Node style (%24) keys in one bag, an encoded space, a bare key
        client.publish("devices/tel-dev/messages/events/$.mid=mid-1&%24.cid=corr%201&$.ct=application%2Fjson"
                + "&$.ce=utf-8&$.cdid=spoofed&temp=21.5&alert&iothub-connection-device-id=spoofed", body, 1, false);

        List<StoredEvent> events = hub.eventsOf("tel-dev");
        assertEquals(1, events.size());
        StoredEvent event = events.get(0);
        assertArrayEquals(body, event.data().body());
        Map<String, String> system = new LinkedHashMap<>(event.data().systemProperties());
        assertEquals("mid-1", system.remove("message-id"));
        assertEquals("corr 1", system.remove("correlation-id"));
        assertEquals("application/json", system.remove("content-type"));
        assertEquals("utf-8", system.remove("content-encoding"));
        assertEquals("tel-dev", system.remove("iothub-connection-device-id"));
        assertEquals("{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
                system.remove("iothub-connection-auth-method"));
        assertEquals(hub.server.registry().device("tel-dev").generationId(),
                system.remove("iothub-connection-auth-generation-id"));
        assertEquals("Telemetry", system.remove("iothub-message-source"));
        assertEquals(Map.of(), system);
        assertEquals(Map.of("temp", "21.5", "alert", "", "iothub-connection-device-id", "spoofed"),
                event.data().applicationProperties());
        assertTrue(event.enqueuedTimeMillis() > 0);
    }

    @Test
    void moduleTelemetryWithTrailingSlashAndRetainFlag() throws Exception {
        hub.register("tel-mod-dev/m1");
        MqttClient client = connected("tel-mod-dev/m1");
        client.publish("devices/tel-mod-dev/modules/m1/messages/events/$.mid=m-1/",
                "hello".getBytes(StandardCharsets.UTF_8), 1, true);
        StoredEvent event = hub.eventsOf("tel-mod-dev").get(0);
        assertEquals("m1", event.data().systemProperties().get("iothub-connection-module-id"));
        assertEquals("m-1", event.data().systemProperties().get("message-id"));
        assertEquals(Map.of("x-opt-retain", "true"), event.data().applicationProperties());
        assertEquals("hello", new String(event.data().body(), StandardCharsets.UTF_8));
    }

    @Test
    void messagesUpTo256KbAsIotHubCountsThemAreAcceptedAndOneByteMoreClosesTheConnection() throws Exception {
        MqttClient client = connected("big-dev");
        String topic = "devices/big-dev/messages/events/$.mid=big&k=v";
        // IoT Hub counts the body, system property values and application property names and values
        int propertyBytes = "big".length() + "k".length() + "v".length();
        byte[] exact = new byte[TelemetryService.MAX_MESSAGE_BYTES - propertyBytes];
        client.publish(topic, exact, 1, false);
        assertEquals(1, hub.eventsOf("big-dev").size());

        CompletableFuture<Throwable> lost = new CompletableFuture<>();
        client.setCallback(MqttConnectTest.lostCallback(lost));
        assertThrows(MqttException.class,
                () -> client.publish(topic, new byte[exact.length + 1], 1, false));
        assertNotNull(lost.get(30, TimeUnit.SECONDS));
        assertEquals(1, hub.eventsOf("big-dev").size(), "the oversized message must not be stored");
    }

    @Test
    void willIsForwardedAsTelemetryOnlyWhenTheConnectionDropsWithoutDisconnect() throws Exception {
        MqttConnectOptions options = options("will-dev");
        options.setWill("devices/will-dev/messages/events/reason=gone", "bye".getBytes(StandardCharsets.UTF_8), 1,
                false);
        MqttClient graceful = new MqttClient(hub.uri(), "will-dev", new MemoryPersistence());
        clients.add(graceful);
        graceful.connect(options);
        graceful.disconnect();
        assertTrue(MqttConnectTest.waitFor(() -> !hub.connections.isConnected("will-dev", null)));
        assertEquals(0, hub.eventsOf("will-dev").size());

        MqttClient dropped = new MqttClient(hub.uri(), "will-dev", new MemoryPersistence());
        clients.add(dropped);
        dropped.connect(options);
        dropped.disconnectForcibly(0, 1000, false);
        assertTrue(MqttConnectTest.waitFor(() -> {
            try {
                return hub.eventsOf("will-dev").size() == 1;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
        StoredEvent will = hub.eventsOf("will-dev").get(0);
        assertEquals(Map.of("reason", "gone", "iothub-MessageType", "Will"), will.data().applicationProperties());
        assertEquals("bye", new String(will.data().body(), StandardCharsets.UTF_8));
    }

    @Test
    void willOnAForeignTopicIsRefused() throws Exception {
        MqttConnectOptions options = options("bad-will-dev");
        options.setWill("devices/other/messages/events/", new byte[]{1}, 1, false);
        MqttClient client = new MqttClient(hub.uri(), "bad-will-dev", new MemoryPersistence());
        clients.add(client);
        MqttException e = assertThrows(MqttException.class, () -> client.connect(options));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, e.getReasonCode());
        assertFalse(client.isConnected());
    }

    @Test
    void qos0TelemetryIsStoredToo() throws Exception {
        MqttClient client = connected("qos0-dev");
        client.publish("devices/qos0-dev/messages/events/", "x".getBytes(StandardCharsets.UTF_8), 0, false);
        assertTrue(MqttConnectTest.waitFor(() -> {
            try {
                return hub.eventsOf("qos0-dev").size() == 1;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }));
    }
}
