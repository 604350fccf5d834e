package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.registry.Device;
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
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub twin}, {@code iothub method invoke} and {@code iothub query} against a hub. */
class TwinCliTest {
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
        List<String> args = new ArrayList<>(List.of(argv));
        args.addAll(List.of("--data-dir", dataDir.toString(), "--url", "https://localhost:" + hub.httpsPort()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliResult(status, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void twinShowUpdateReplaceAndQuery() {
        for (String id : new String[]{"cli-a", "cli-b"}) {
            hub.registry().putDevice(id, new Device(id, null, null, null, null, null, null, false, null, null), null);
        }
        CliResult updated = iothub("twin", "update", "cli-a",
                "{\"tags\":{\"site\":\"north\"},\"properties\":{\"desired\":{\"rate\":5}}}");
        assertEquals(0, updated.status(), updated.err());
        assertTrue(updated.out().contains("version 2, desired $version 2"), updated.out());
        iothub("twin", "update", "cli-b", "{\"tags\":{\"site\":\"south\"}}");

        CliResult shown = iothub("twin", "show", "cli-a");
        JsonNode twin = Json.parse(shown.out());
        assertEquals("north", twin.at("/tags/site").asText());
        assertEquals(5, twin.at("/properties/desired/rate").asInt());

        CliResult stale = iothub("twin", "replace", "cli-a", "{\"tags\":{}}", "--etag", "AAAAAAAAAAk=");
        assertEquals(1, stale.status());
        assertTrue(stale.err().contains("412001"), stale.err());
        CliResult replaced = iothub("twin", "replace", "cli-a", "{\"tags\":{\"site\":\"east\"}}",
                "--etag", twin.get("etag").asText(), "--json");
        assertEquals(0, replaced.status(), replaced.err());
        assertEquals("east", Json.parse(replaced.out()).at("/tags/site").asText());

        CliResult query = iothub("query", "SELECT * FROM devices WHERE tags.site = 'south'");
        assertEquals(0, query.status(), query.err());
        assertTrue(query.out().contains("cli-b") && !query.out().contains("cli-a"), query.out());
        CliResult count = iothub("query", "SELECT COUNT() AS n FROM devices WHERE IS_DEFINED(tags.site)",
                "--json");
        assertEquals(2, Json.parse(count.out()).get(0).get("n").asInt());
        CliResult bad = iothub("query", "SELECT * FROM devices WHERE");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("position 28"), bad.err());
    }

    @Test
    void methodInvokeReturnsTheDevicesAnswer() throws Exception {
        hub.registry().putDevice("cli-m", new Device("cli-m", null, null, null, null, null, null, false, null, null),
                null);
        String key = hub.registry().device("cli-m").authentication().symmetricKey().primaryKey();
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
        options.setSocketFactory(tls.getSocketFactory());
        options.setUserName(hub.hostName() + "/cli-m/?api-version=2021-04-12");
        options.setPassword(SasToken.create(hub.hostName() + "/devices/cli-m", key, null,
                Instant.now().plusSeconds(600)).toCharArray());
        MqttClient client = new MqttClient("ssl://localhost:" + hub.mqttPort(), "cli-m", new MemoryPersistence());
        client.connect(options);
        try {
            client.subscribe("$iothub/methods/POST/#", 0, (topic, message) -> {
                String rid = topic.substring(topic.indexOf("?$rid=") + 6);
                String answer = "{\"got\":" + new String(message.getPayload(), StandardCharsets.UTF_8) + "}";
                CompletableFuture.runAsync(() -> {
                    try {
                        client.publish("$iothub/methods/res/201/?$rid=" + rid,
                                new MqttMessage(answer.getBytes(StandardCharsets.UTF_8)));
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
            });
            CliResult result = iothub("method", "invoke", "cli-m", "reboot", "--payload", "{\"in\":3}");
            assertEquals(0, result.status(), result.err());
            assertEquals("status 201: {\"got\":{\"in\":3}}", result.out().trim());
            CliResult offline = iothub("method", "invoke", "nobody", "reboot");
            assertEquals(1, offline.status());
            assertTrue(offline.err().contains("404001"), offline.err());
        } finally {
            client.disconnectForcibly(0, 1000);
            client.close(true);
        }
    }
}
