package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MQTT over WebSockets on the HTTPS port with Eclipse Paho's wss transport. */
class MqttWebSocketTest {
    private static MqttTestHub hub;

    @BeforeAll
    static void start() throws Exception {
        hub = new MqttTestHub();
    }

    @AfterAll
    static void stop() throws Exception {
        hub.close();
    }

    private MqttConnectOptions options(String deviceId, String key) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(false);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setUserName(MqttTestHub.HOST + "/" + deviceId + "/?api-version=2020-09-30");
        options.setPassword(hub.token(deviceId, key).toCharArray());
        return options;
    }

    @Test
    void telemetryOverWebSocketsReachesTheEventStream() throws Exception {
        String key = hub.register("ws-dev");
        MqttClient client = new MqttClient(hub.webSocketUri(), "ws-dev", new MemoryPersistence());
        try {
            client.connect(options("ws-dev", key));
            assertTrue(MqttConnectTest.waitFor(() -> hub.connections.find("ws-dev", null)
                    .map(link -> link.transport().equals("mqtt-ws")).orElse(false)));
            byte[] body = new byte[100_000]; // spans many WebSocket frames and TLS records
            new java.util.Random(3).nextBytes(body);
            client.publish("devices/ws-dev/messages/events/$.mid=ws-1", body, 1, false);
            List<StoredEvent> events = hub.eventsOf("ws-dev");
            assertEquals(1, events.size());
            assertEquals("ws-1", events.get(0).data().systemProperties().get("message-id"));
            org.junit.jupiter.api.Assertions.assertArrayEquals(body, events.get(0).data().body());
            client.disconnect();
        } finally {
            client.close(true);
        }
    }

    @Test
    void wrongCredentialsOverWebSocketsAreRefusedLikeOverTls() throws Exception {
        hub.register("ws-bad");
        MqttClient client = new MqttClient(hub.webSocketUri(), "ws-bad", new MemoryPersistence());
        try {
            String otherKey = java.util.Base64.getEncoder().encodeToString(new byte[32]);
            MqttException e = assertThrows(MqttException.class, () -> client.connect(options("ws-bad", otherKey)));
            assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, e.getReasonCode());
        } finally {
            client.close(true);
        }
    }

    @Test
    void upgradeWithoutTheMqttSubProtocolIsRefused() throws Exception {
        java.net.URI uri = java.net.URI.create(hub.webSocketUri());
        try (SSLSocket socket = (SSLSocket) hub.clientTls().getSocketFactory().createSocket(uri.getHost(), uri.getPort())) {
            OutputStream out = socket.getOutputStream();
            // absolute-form request target, as the Java SDK's WebSocket clients send it; AMQPWSB10 belongs to AMQP
            out.write(("GET https://" + MqttTestHub.HOST + "/$iothub/websocket HTTP/1.1\r\nHost: localhost\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(response.startsWith("HTTP/1.1 400 "), response);
            assertTrue(response.contains("sub-protocol 'mqtt' is required"), response);
        }
    }
}
