package io.ferryhub.compat.eventhubs;

import com.azure.core.amqp.AmqpTransportType;
import com.azure.core.amqp.exception.AmqpErrorCondition;
import com.azure.core.amqp.exception.AmqpException;
import com.azure.messaging.eventhubs.EventData;
import com.azure.messaging.eventhubs.EventHubConsumerAsyncClient;
import com.azure.messaging.eventhubs.EventHubClientBuilder;
import com.azure.messaging.eventhubs.EventHubConsumerClient;
import com.azure.messaging.eventhubs.EventHubProperties;
import com.azure.messaging.eventhubs.PartitionProperties;
import com.azure.messaging.eventhubs.models.EventPosition;
import com.azure.messaging.eventhubs.models.LastEnqueuedEventProperties;
import com.azure.messaging.eventhubs.models.PartitionEvent;
import com.azure.messaging.eventhubs.models.ReceiveOptions;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Event Hubs client (azure-messaging-eventhubs 5.21.3, unmodified) reads, from the hub's built-in
 * endpoint, telemetry a device sent over MQTT: with the Event Hubs connection string the hub printed, over AMQPS on
 * 5671 and over WebSockets on 443, from the start, a sequence number and an enqueued time, in two consumer groups,
 * with the partition's last enqueued event tracked, and under owner levels (epochs).
 * The hub runs as a user starts it, in its own process, on IoT Hub's fixed ports (root needed). The client trusts
 * the JVM's default TLS context only, so the hub's CA goes there, as {@code -Djavax.net.ssl.trustStore} would put it.
 */
class EventHubsClientTest {
    private static final String API = "api-version=2021-04-12";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path dataDir;
    static Process hub;
    static SSLContext tls;
    static HttpClient http;
    static Map<String, String> owner;
    static String eventHubsConnectionString;

    @BeforeAll
    static void start() throws Exception {
        Path repo = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        hub = new ProcessBuilder(repo.resolve("scripts/iothub").toString(), "start", "--data-dir", dataDir.toString(),
                "--https-port", "443", "--mqtt-port", "8883", "--amqp-port", "5671")
                .redirectErrorStream(true).start();
        awaitReady(hub.getInputStream());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(dataDir.resolve("ca.pem"))) {
            trust.setCertificateEntry("hub-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        SSLContext.setDefault(tls);
        http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
        owner = fields(Files.readString(dataDir.resolve("iothubowner.connection-string")).trim());
        eventHubsConnectionString = Files.readString(dataDir.resolve("eventhubs.connection-string")).trim();
    }

    /** Reads the start banner until the HTTPS port line, then drains the rest in the background. */
    private static void awaitReady(InputStream stdout) throws Exception {
        BufferedReader lines = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.trim().startsWith("https port")) {
                Thread drain = new Thread(() -> lines.lines().forEach(l -> { }), "hub-output");
                drain.setDaemon(true);
                drain.start();
                return;
            }
        }
        throw new IllegalStateException("the hub did not start:\n" + seen);
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.destroy();
            if (!hub.waitFor(20, TimeUnit.SECONDS)) {
                hub.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Map<String, String> fields(String connectionString) {
        Map<String, String> out = new HashMap<>();
        for (String part : connectionString.split(";")) {
            int eq = part.indexOf('=');
            out.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return out;
    }

    private static String sasToken(String resource, String key, String policy) throws Exception {
        String sr = URLEncoder.encode(resource, StandardCharsets.UTF_8);
        String se = Long.toString(Instant.now().plusSeconds(3600).getEpochSecond());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(key), "HmacSHA256"));
        String sig = Base64.getEncoder().encodeToString(mac.doFinal((sr + "\n" + se).getBytes(StandardCharsets.UTF_8)));
        return "SharedAccessSignature sr=" + sr + "&sig=" + URLEncoder.encode(sig, StandardCharsets.UTF_8) + "&se=" + se
                + (policy == null ? "" : "&skn=" + policy);
    }

    private static HttpResponse<String> rest(String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + owner.get("HostName") + path))
                .header("Authorization", sasToken(owner.get("HostName"), owner.get("SharedAccessKey"),
                        owner.get("SharedAccessKeyName")))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Registers a device over IoT Hub's REST API; returns its primary key. */
    private static String registerDevice(String deviceId) throws Exception {
        HttpResponse<String> created = rest("PUT", "/devices/" + deviceId + "?" + API,
                "{\"deviceId\":\"" + deviceId + "\"}");
        assertEquals(200, created.statusCode(), created.body());
        Matcher key = Pattern.compile("\"primaryKey\"\\s*:\\s*\"([^\"]+)\"").matcher(created.body());
        assertTrue(key.find(), created.body());
        return key.group(1);
    }

    /** Publishes telemetry as an IoT Hub device over MQTT 3.1.1 (QoS 1: each returns once the hub has it). */
    private static void sendTelemetry(String deviceId, String key, int count, String prefix) throws Exception {
        String host = owner.get("HostName");
        MqttClient device = new MqttClient("ssl://" + host + ":8883", deviceId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setUserName(host + "/" + deviceId + "/?" + API);
        options.setPassword(sasToken(host + "/devices/" + deviceId, key, null).toCharArray());
        options.setSocketFactory(tls.getSocketFactory());
        device.connect(options);
        try {
            for (int i = 0; i < count; i++) {
                String topic = "devices/" + deviceId + "/messages/events/$.mid=" + prefix + "-" + i + "&$.cid=corr-" + i
                        + "&$.ct=application%2Fjson&$.ce=utf-8&color=blue&index=" + i;
                MqttMessage message = new MqttMessage(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
                message.setQos(1);
                device.publish(topic, message);
            }
        } finally {
            device.disconnect();
            device.close();
        }
    }

    private static EventHubConsumerClient consumer(String group, AmqpTransportType transport) {
        return new EventHubClientBuilder()
                .connectionString(eventHubsConnectionString)
                .consumerGroup(group)
                .transportType(transport)
                .buildConsumerClient();
    }

    /** The partition a device's telemetry went to: the one whose last sequence number moved. */
    private static String partitionThatGrew(EventHubConsumerClient client, Map<String, Long> before) {
        for (String id : client.getPartitionIds()) {
            if (client.getPartitionProperties(id).getLastEnqueuedSequenceNumber() != before.get(id)) {
                return id;
            }
        }
        throw new AssertionError("no partition grew");
    }

    private static Map<String, Long> lastSequenceNumbers(EventHubConsumerClient client) {
        Map<String, Long> out = new HashMap<>();
        for (String id : client.getPartitionIds()) {
            out.put(id, client.getPartitionProperties(id).getLastEnqueuedSequenceNumber());
        }
        return out;
    }

    private static List<EventData> receive(EventHubConsumerClient client, String partition, int count,
                                           EventPosition from, String deviceId) {
        List<EventData> out = new ArrayList<>();
        for (PartitionEvent e : client.receiveFromPartition(partition, count, from, WAIT)) {
            if (deviceId.equals(e.getData().getSystemProperties().get("iothub-connection-device-id"))) {
                out.add(e.getData());
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsDeviceTelemetryWithIoTHubsPropertiesFromTheStart(boolean webSockets) throws Exception {
        AmqpTransportType transport = webSockets ? AmqpTransportType.AMQP_WEB_SOCKETS : AmqpTransportType.AMQP;
        String deviceId = webSockets ? "eh-amqp-ws" : "eh-amqp";
        String key = registerDevice(deviceId);
        try (EventHubConsumerClient client = consumer(EventHubClientBuilder.DEFAULT_CONSUMER_GROUP_NAME, transport)) {
            EventHubProperties properties = client.getEventHubProperties();
            assertEquals(fields(eventHubsConnectionString).get("EntityPath"), properties.getName());
            assertEquals(List.of("0", "1", "2", "3"), properties.getPartitionIds().stream().toList());
            Map<String, Long> before = lastSequenceNumbers(client);

            sendTelemetry(deviceId, key, 3, "t");
            String partition = partitionThatGrew(client, before);
            PartitionProperties info = client.getPartitionProperties(partition);
            assertEquals(before.get(partition) + 3, info.getLastEnqueuedSequenceNumber());
            assertTrue(!info.isEmpty());

            List<EventData> events = receive(client, partition, (int) info.getLastEnqueuedSequenceNumber() + 1,
                    EventPosition.earliest(), deviceId);
            assertEquals(3, events.size());
            EventData first = events.get(0);
            assertEquals("{\"n\":0}", first.getBodyAsString());
            assertEquals("t-0", first.getMessageId());
            assertEquals("corr-0", first.getCorrelationId());
            assertEquals("application/json", first.getContentType());
            assertEquals("blue", first.getProperties().get("color"));
            assertEquals("0", first.getProperties().get("index"));
            Map<String, Object> system = first.getSystemProperties();
            assertEquals("Telemetry", system.get("iothub-message-source"));
            assertEquals("{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
                    system.get("iothub-connection-auth-method"));
            assertNotNull(system.get("iothub-connection-auth-generation-id"));
            assertNotNull(system.get("iothub-enqueuedtime"));
            assertEquals("utf-8", system.get("content-encoding"));
            assertEquals(info.getLastEnqueuedSequenceNumber() - 2, first.getSequenceNumber());
            assertEquals(List.of("t-0", "t-1", "t-2"), events.stream().map(EventData::getMessageId).toList());
            assertEquals(info.getLastEnqueuedOffset(), Long.toString(events.get(2).getOffset()));
        }
    }

    @Test
    void readsFromASequenceNumberAndAnEnqueuedTimeInAConsumerGroupOfItsOwn() throws Exception {
        HttpResponse<String> group = rest("PUT", "/messages/events/consumergroups/compat?" + API, null);
        assertEquals(200, group.statusCode(), group.body());
        String deviceId = "eh-positions";
        String key = registerDevice(deviceId);
        try (EventHubConsumerClient defaults = consumer("$Default", AmqpTransportType.AMQP);
             EventHubConsumerClient own = consumer("compat", AmqpTransportType.AMQP)) {
            Map<String, Long> before = lastSequenceNumbers(defaults);
            sendTelemetry(deviceId, key, 4, "p");
            String partition = partitionThatGrew(defaults, before);
            long firstSeq = before.get(partition) + 1;

            List<EventData> fromSeq = receive(own, partition, 2, EventPosition.fromSequenceNumber(firstSeq + 2, true),
                    deviceId);
            assertEquals(List.of("p-2", "p-3"), fromSeq.stream().map(EventData::getMessageId).toList());

            Instant third = fromSeq.get(0).getEnqueuedTime();
            List<EventData> fromTime = receive(defaults, partition, 1,
                    EventPosition.fromEnqueuedTime(third.minusMillis(1)), deviceId);
            assertTrue(!fromTime.isEmpty());
            assertTrue(!fromTime.get(0).getEnqueuedTime().isBefore(third.minusMillis(1)));

            // the other group reads the same events on its own
            List<EventData> all = receive(defaults, partition, 4, EventPosition.fromSequenceNumber(firstSeq, true),
                    deviceId);
            assertEquals(List.of("p-0", "p-1", "p-2", "p-3"), all.stream().map(EventData::getMessageId).toList());
        }
    }
    @Test
    void trackingTheLastEnqueuedEventGivesThePartitionsLatestEventWithEachEvent() throws Exception {
        String deviceId = "eh-tracking";
        String key = registerDevice(deviceId);
        try (EventHubConsumerClient client = consumer("$Default", AmqpTransportType.AMQP)) {
            Map<String, Long> before = lastSequenceNumbers(client);
            sendTelemetry(deviceId, key, 3, "l");
            String partition = partitionThatGrew(client, before);
            PartitionProperties info = client.getPartitionProperties(partition);
            List<LastEnqueuedEventProperties> seen = new ArrayList<>();
            for (PartitionEvent e : client.receiveFromPartition(partition, 3,
                    EventPosition.fromSequenceNumber(info.getLastEnqueuedSequenceNumber() - 2, true), WAIT,
                    new ReceiveOptions().setTrackLastEnqueuedEventProperties(true))) {
                seen.add(e.getLastEnqueuedEventProperties());
            }
            assertEquals(3, seen.size());
            for (LastEnqueuedEventProperties last : seen) {
                assertEquals(info.getLastEnqueuedSequenceNumber(), last.getSequenceNumber());
                assertEquals(info.getLastEnqueuedOffset(), last.getOffsetString());
                assertEquals(info.getLastEnqueuedTime(), last.getEnqueuedTime());
                assertNotNull(last.getRetrievalTime());
            }
        }
    }

    @Test
    void aReceiverWithAHigherOwnerLevelTakesThePartition() throws Exception {
        String deviceId = "eh-owner";
        String key = registerDevice(deviceId);
        try (EventHubConsumerClient client = consumer("$Default", AmqpTransportType.AMQP);
             EventHubConsumerAsyncClient async = new EventHubClientBuilder()
                     .connectionString(eventHubsConnectionString)
                     .consumerGroup("$Default")
                     .buildAsyncConsumerClient()) {
            Map<String, Long> before = lastSequenceNumbers(client);
            sendTelemetry(deviceId, key, 1, "o");
            String partition = partitionThatGrew(client, before);
            EventPosition last = EventPosition.fromSequenceNumber(
                    client.getPartitionProperties(partition).getLastEnqueuedSequenceNumber(), true);

            CountDownLatch firstReading = new CountDownLatch(1);
            CountDownLatch firstEnded = new CountDownLatch(1);
            AtomicReference<Throwable> firstError = new AtomicReference<>();
            Disposable first = async.receiveFromPartition(partition, last, new ReceiveOptions().setOwnerLevel(1L))
                    .subscribe(e -> firstReading.countDown(), error -> {
                        firstError.set(error);
                        firstEnded.countDown();
                    }, firstEnded::countDown);
            try {
                assertTrue(firstReading.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the first receiver read nothing");
                List<PartitionEvent> taken = async.receiveFromPartition(partition, last,
                        new ReceiveOptions().setOwnerLevel(2L)).take(1).collectList().block(WAIT);
                assertNotNull(taken);
                assertEquals("o-0", taken.get(0).getData().getMessageId());
                assertTrue(firstEnded.await(120, TimeUnit.SECONDS), "the first receiver kept the partition");
                AmqpException stolen = assertInstanceOf(AmqpException.class, firstError.get());
                assertEquals(AmqpErrorCondition.LINK_STOLEN, stolen.getErrorCondition());
            } finally {
                first.dispose();
            }
        }
    }
}
