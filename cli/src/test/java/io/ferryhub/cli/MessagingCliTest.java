package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.registry.Device;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub monitor-events} and {@code iothub c2d} against a hub, with a Paho device on the other side. */
class MessagingCliTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static CliResult iothub(String... argv) {
        return CliResult.against(hub, dataDir, argv);
    }

    private static MqttClient device(String deviceId, MqttCallback callback) throws Exception {
        hub.registry().putDevice(deviceId, new Device(deviceId, null, null, null, null, null, null, false, null, null),
                null);
        String key = hub.registry().device(deviceId).authentication().symmetricKey().primaryKey();
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (var in = Files.newInputStream(hub.caCertificatePath())) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setSocketFactory(tls.getSocketFactory());
        options.setUserName(hub.hostName() + "/" + deviceId + "/?api-version=2021-04-12");
        options.setPassword(SasToken.create(hub.hostName() + "/devices/" + deviceId, key, null,
                Instant.now().plusSeconds(600)).toCharArray());
        MqttClient client = new MqttClient("ssl://localhost:" + hub.mqttPort(), deviceId, new MemoryPersistence());
        if (callback != null) {
            client.setCallback(callback);
        }
        client.connect(options);
        return client;
    }

    @Test
    void monitorEventsPrintsTelemetryWithItsProperties() throws Exception {
        MqttClient client = device("cli-tel", null);
        try {
            CompletableFuture<CliResult> monitor = CompletableFuture.supplyAsync(() ->
                    iothub("monitor-events", "--device", "cli-tel", "--from", "earliest", "--count", "2",
                            "--timeout", "60"));
            client.publish("devices/cli-tel/messages/events/$.mid=a&$.ct=application%2Fjson&level=warn",
                    "{\"t\":21}".getBytes(StandardCharsets.UTF_8), 1, false);
            client.publish("devices/cli-tel/messages/events/$.mid=b", new byte[]{(byte) 0xff, 0}, 1, false);
            CliResult result = monitor.get(60, TimeUnit.SECONDS);
            assertEquals(0, result.status(), result.err());
            List<JsonNode> events = new ArrayList<>();
            Json.MAPPER.readerFor(JsonNode.class).<JsonNode>readValues(result.out()).forEachRemaining(events::add);
            assertEquals(2, events.size(), result.out());
            JsonNode first = events.get(0).path("event");
            assertEquals("cli-tel", first.path("origin").asText());
            assertEquals("{\"t\":21}", first.path("payload").asText());
            assertEquals("a", first.path("properties").path("system").path("message-id").asText());
            assertEquals("application/json", first.path("properties").path("system").path("content-type").asText());
            assertEquals("warn", first.path("properties").path("application").path("level").asText());
            JsonNode second = events.get(1).path("event");
            assertEquals("base64", second.path("payloadEncoding").asText());
            assertEquals("/wA=", second.path("payload").asText());
        } finally {
            client.disconnect();
            client.close();
        }
    }

    @Test
    void mosquittoPubWithAGeneratedSasTokenAsInTheReadme() throws Exception {
        hub.registry().putDevice("cli-mosq", new Device("cli-mosq", null, null, null, null, null, null, false, null,
                null), null);
        CliResult token = iothub("generate-sas-token", "--device", "cli-mosq", "--duration", "600");
        assertEquals(0, token.status(), token.err());
        assertTrue(token.out().startsWith("SharedAccessSignature sr="), token.out());
        Process pub = new ProcessBuilder("mosquitto_pub", "-h", "localhost", "-p", Integer.toString(hub.mqttPort()),
                "--cafile", hub.caCertificatePath().toString(), "-V", "mqttv311", "-q", "1",
                "-i", "cli-mosq", "-u", hub.hostName() + "/cli-mosq/?api-version=2021-04-12",
                "-P", token.out().trim(), "-t", "devices/cli-mosq/messages/events/room=kitchen", "-m", "21.5")
                .redirectErrorStream(true).start();
        try {
            assertTrue(pub.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            pub.destroyForcibly();
        }
        CliResult monitor = iothub("monitor-events", "--device", "cli-mosq", "--from", "earliest", "--count", "1",
                "--timeout", "30");
        assertEquals(0, monitor.status(), monitor.err());
        JsonNode event = Json.parse(monitor.out()).path("event");
        assertEquals("21.5", event.path("payload").asText());
        assertEquals("kitchen", event.path("properties").path("application").path("room").asText());
    }

    @Test
    void c2dSendReachesTheDeviceAndFeedbackAndPurgeWork() throws Exception {
        LinkedBlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        MqttClient client = device("cli-c2d", new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.add(new String[]{topic, new String(message.getPayload(), StandardCharsets.UTF_8)});
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        try {
            client.subscribe("devices/cli-c2d/messages/devicebound/#", 1);
            CliResult sent = iothub("c2d", "send", "cli-c2d", "reboot now", "--ack", "full", "--message-id", "cmd-1",
                    "--property", "priority=high", "--ttl", "600");
            assertEquals(0, sent.status(), sent.err());
            assertTrue(sent.out().startsWith("queued message cmd-1 for cli-c2d"), sent.out());
            String[] got = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(got);
            assertTrue(got[0].startsWith("devices/cli-c2d/messages/devicebound/%24.mid=cmd-1&"), got[0]);
            assertTrue(got[0].endsWith("&iothub-ack=full&priority=high"), got[0]);
            assertEquals("reboot now", got[1]);

            CliResult feedback = iothub("c2d", "feedback", "--wait", "30", "--json");
            assertEquals(0, feedback.status(), feedback.err());
            JsonNode records = Json.parse(feedback.out());
            assertEquals("cmd-1", records.get(0).path("originalMessageId").asText());
            assertEquals("Success", records.get(0).path("statusCode").asText());
        } finally {
            client.disconnect();
            client.close();
        }
        // offline now: messages wait in the queue until purged
        assertEquals(0, iothub("c2d", "send", "cli-c2d", "one").status());
        assertEquals(0, iothub("c2d", "send", "cli-c2d", "two").status());
        CliResult purged = iothub("c2d", "purge", "cli-c2d");
        assertEquals(0, purged.status(), purged.err());
        assertEquals("purged 2 messages queued for cli-c2d", purged.out().trim());

        for (int i = 0; i < 50; i++) {
            assertEquals(0, iothub("c2d", "send", "cli-c2d", "m" + i).status());
        }
        CliResult full = iothub("c2d", "send", "cli-c2d", "one too many");
        assertEquals(1, full.status());
        assertTrue(full.err().contains("403004"), full.err());
        assertEquals("purged 50 messages queued for cli-c2d", iothub("c2d", "purge", "cli-c2d").out().trim());

        CliResult unknown = iothub("c2d", "send", "nobody", "x");
        assertEquals(1, unknown.status());
        assertTrue(unknown.err().contains("404001") || unknown.err().contains("not registered"), unknown.err());
    }
}
