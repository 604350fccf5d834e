package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.c2d.FeedbackRecord;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;

/** Cloud-to-device delivery over MQTT to Eclipse Paho: properties, redelivery, delivery count, expiry, feedback. */
class MqttC2dTest {
    private static final int MAX_DELIVERIES = CloudToDeviceService.Settings.DEFAULTS.maxDeliveryCount();
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

    private record Received(String topic, byte[] payload, int qos) {
    }

    /**
     * A device on a clean session that subscribes to its C2D topic and, if {@code acknowledge} is false, never
     * PUBACKs.
     */
    private MqttClient device(String deviceId, LinkedBlockingQueue<Received> inbox, boolean acknowledge)
            throws Exception {
        String key = hub.keys.containsKey(deviceId) ? hub.keys.get(deviceId) : hub.register(deviceId);
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(true);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setUserName(MqttTestHub.HOST + "/" + deviceId + "/?api-version=2020-09-30");
        options.setPassword(hub.token(deviceId, key).toCharArray());
        MqttClient client = new MqttClient(hub.uri(), deviceId, new MemoryPersistence());
        clients.add(client);
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(new Received(topic, message.getPayload(), message.getQos()));
                if (!acknowledge) {
                    // Paho drops the connection without acknowledging when the callback throws
                    throw new IllegalStateException("device crashed while handling the message");
                }
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        client.connect(options);
        client.subscribe("devices/" + deviceId + "/messages/devicebound/#", 1);
        return client;
    }

    private static OutgoingMessage message(String messageId, String ack, Instant expiry, String body) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("color", "blue green");
        properties.put("path", "a/b");
        return new OutgoingMessage(messageId, "corr-1", null, ack, expiry, properties,
                body.getBytes(StandardCharsets.UTF_8));
    }

    private static List<FeedbackRecord> drainFeedback() throws Exception {
        List<FeedbackRecord> all = new ArrayList<>();
        Optional<CloudToDeviceService.FeedbackBatch> batch;
        while ((batch = hub.c2d.receiveFeedback().get(30, TimeUnit.SECONDS)).isPresent()) {
            all.addAll(batch.get().records());
            hub.c2d.completeFeedback(batch.get().lockToken()).get(30, TimeUnit.SECONDS);
        }
        return all;
    }

    private static FeedbackRecord awaitFeedback(String messageId) throws Exception {
        return Await.value(Duration.ofSeconds(30), () -> {
            for (FeedbackRecord r : drainFeedback()) {
                if (r.originalMessageId().equals(messageId)) {
                    return r;
                }
            }
            return null;
        });
    }

    @Test
    void queuedMessageIsDeliveredWithSystemPropertiesFirstWhenTheDeviceSubscribes() throws Exception {
        hub.register("c2d-dev");
        Instant expiry = Instant.now().plus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
        hub.c2d.send("c2d-dev", message("msg-1", "positive", expiry, "hello device")).get(30, TimeUnit.SECONDS);

        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        device("c2d-dev", inbox, true);
        Received got = inbox.poll(30, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals("devices/c2d-dev/messages/devicebound/%24.mid=msg-1"
                + "&%24.to=%2Fdevices%2Fc2d-dev%2Fmessages%2FdeviceBound&%24.cid=corr-1"
                + "&%24.exp=" + expiry.toString().replace(":", "%3A")
                + "&iothub-ack=positive&color=blue%20green&path=a%2Fb", got.topic());
        assertEquals("hello device", new String(got.payload(), StandardCharsets.UTF_8));
        assertEquals(1, got.qos());

        FeedbackRecord feedback = awaitFeedback("msg-1");
        assertNotNull(feedback);
        assertEquals("Success", feedback.statusCode());
        assertEquals("c2d-dev", feedback.deviceId());
        assertEquals(hub.server.registry().device("c2d-dev").generationId(), feedback.deviceGenerationId());
        assertTrue(MqttConnectTest.waitFor(() -> hub.c2d.queueDepth("c2d-dev").join() == 0));
    }

    /** As IoT Hub does (and the Node SDK reads): the content type and encoding as {@code $.ct} and {@code $.ce}. */
    @Test
    void contentTypeAndEncodingAreInThePropertyBag() throws Exception {
        hub.register("c2d-ct");
        Instant expiry = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
        hub.c2d.send("c2d-ct", new OutgoingMessage("msg-ct", null, null, "none", expiry, Map.of(),
                "{}".getBytes(StandardCharsets.UTF_8), "application/json; charset=utf-8", "utf-8"))
                .get(30, TimeUnit.SECONDS);
        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        device("c2d-ct", inbox, true);
        Received got = inbox.poll(30, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals("devices/c2d-ct/messages/devicebound/%24.mid=msg-ct"
                + "&%24.to=%2Fdevices%2Fc2d-ct%2Fmessages%2FdeviceBound"
                + "&%24.ct=application%2Fjson%3B%20charset%3Dutf-8&%24.ce=utf-8"
                + "&%24.exp=" + expiry.toString().replace(":", "%3A") + "&iothub-ack=none", got.topic());
    }

    @Test
    void aPersistentSessionKeepsItsSubscriptionSoQueuedMessagesArriveWithoutSubscribing() throws Exception {
        hub.register("session-dev");
        MqttClient first = connectOnly("session-dev", new LinkedBlockingQueue<>(), false, false);
        first.subscribe("devices/session-dev/messages/devicebound/#", 1);
        first.disconnect();
        hub.c2d.send("session-dev", message("msg-s", null, null, "while away")).get(30, TimeUnit.SECONDS);

        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient resumed = connectOnly("session-dev", inbox, false, true);
        Received got = inbox.poll(30, TimeUnit.SECONDS);
        assertNotNull(got, "the resumed session's subscription must deliver the queued message");
        assertEquals("while away", new String(got.payload(), StandardCharsets.UTF_8));
        // the client PUBACKs after its callback returns; a DISCONNECT sent before that would rightly leave the
        // message queued for redelivery, so wait for the hub to complete it
        assertTrue(MqttConnectTest.waitFor(() -> hub.c2d.queueDepth("session-dev").join() == 0));
        resumed.disconnect();

        // a clean session ends it: nothing is delivered until the device subscribes again
        hub.c2d.send("session-dev", message("msg-s2", null, null, "later")).get(30, TimeUnit.SECONDS);
        LinkedBlockingQueue<Received> cleanInbox = new LinkedBlockingQueue<>();
        connectOnly("session-dev", cleanInbox, true, false);
        assertNull(cleanInbox.poll(300, TimeUnit.MILLISECONDS));
        assertEquals(1, hub.c2d.queueDepth("session-dev").get());
    }

    /** Connects without subscribing; {@code clean} chooses the session kind. */
    private MqttClient connectOnly(String deviceId, LinkedBlockingQueue<Received> inbox, boolean clean,
                                   boolean expectSessionPresent) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(clean);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setUserName(MqttTestHub.HOST + "/" + deviceId + "/?api-version=2020-09-30");
        options.setPassword(hub.token(deviceId, hub.keys.get(deviceId)).toCharArray());
        MqttClient client = new MqttClient(hub.uri(), deviceId, new MemoryPersistence());
        clients.add(client);
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(new Received(topic, message.getPayload(), message.getQos()));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        IMqttToken connected = client.connectWithResult(options);
        assertEquals(expectSessionPresent, connected.getSessionPresent(), "CONNACK session present");
        return client;
    }

    @Test
    void aQos0SubscriptionGetsMessagesAtQos0AndTheyCompleteWhenWritten() throws Exception {
        hub.register("qos0-c2d-dev");
        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient client = connectOnly("qos0-c2d-dev", inbox, true, false);
        client.subscribe("devices/qos0-c2d-dev/messages/devicebound/#", 0);
        hub.c2d.send("qos0-c2d-dev", message("msg-q0", null, null, "fire and forget")).get(30, TimeUnit.SECONDS);
        Received got = inbox.poll(30, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals(0, got.qos());
        assertEquals("fire and forget", new String(got.payload(), StandardCharsets.UTF_8));
        assertTrue(MqttConnectTest.waitFor(() -> hub.c2d.queueDepth("qos0-c2d-dev").join() == 0));
    }

    @Test
    void unacknowledgedMessageIsRedeliveredAfterReconnect() throws Exception {
        hub.register("redeliver-dev");
        LinkedBlockingQueue<Received> first = new LinkedBlockingQueue<>();
        MqttClient crashing = device("redeliver-dev", first, false);
        hub.c2d.send("redeliver-dev", message("msg-r", "none", null, "again")).get(30, TimeUnit.SECONDS);
        assertNotNull(first.poll(30, TimeUnit.SECONDS));
        assertTrue(MqttConnectTest.waitFor(() -> !crashing.isConnected()));
        assertEquals(1, hub.c2d.queueDepth("redeliver-dev").get());

        LinkedBlockingQueue<Received> second = new LinkedBlockingQueue<>();
        device("redeliver-dev", second, true);
        Received again = second.poll(30, TimeUnit.SECONDS);
        assertNotNull(again);
        assertTrue(again.topic().startsWith("devices/redeliver-dev/messages/devicebound/%24.mid=msg-r&"));
        assertEquals("again", new String(again.payload(), StandardCharsets.UTF_8));
        assertTrue(MqttConnectTest.waitFor(() -> hub.c2d.queueDepth("redeliver-dev").join() == 0));
    }

    @Test
    void messageIsDeadLetteredOnceTheMaximumDeliveryCountIsReached() throws Exception {
        hub.register("count-dev");
        hub.c2d.send("count-dev", message("msg-c", "negative", null, "poison")).get(30, TimeUnit.SECONDS);
        for (int attempt = 1; attempt <= MAX_DELIVERIES; attempt++) {
            LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
            MqttClient client = device("count-dev", inbox, false);
            assertNotNull(inbox.poll(30, TimeUnit.SECONDS), "delivery " + attempt);
            assertTrue(MqttConnectTest.waitFor(() -> !client.isConnected()));
        }
        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        device("count-dev", inbox, true);
        FeedbackRecord feedback = awaitFeedback("msg-c");
        assertNotNull(feedback);
        assertEquals("DeliveryCountExceeded", feedback.statusCode());
        assertNull(inbox.poll(200, TimeUnit.MILLISECONDS), "a dead-lettered message is not delivered again");
        assertEquals(0, hub.c2d.queueDepth("count-dev").get());
    }

    @Test
    void messageExpiresWhileTheDeviceIsOffline() throws Exception {
        hub.register("ttl-dev");
        hub.c2d.send("ttl-dev", message("msg-t", "full", Instant.now().plusMillis(300), "late"))
                .get(30, TimeUnit.SECONDS);
        FeedbackRecord feedback = awaitFeedback("msg-t");
        assertNotNull(feedback);
        assertEquals("Expired", feedback.statusCode());

        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        device("ttl-dev", inbox, true);
        assertNull(inbox.poll(300, TimeUnit.MILLISECONDS), "an expired message is never delivered");
    }

    @Test
    void messagesSentWhileConnectedArriveInOrder() throws Exception {
        hub.register("order-dev");
        LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        device("order-dev", inbox, true);
        List<CompletableFuture<CloudToDeviceService.SendResult>> sends = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sends.add(hub.c2d.send("order-dev", message("o-" + i, null, null, "n" + i)));
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(i, sends.get(i).get(30, TimeUnit.SECONDS).sequenceNumber());
            Received got = inbox.poll(30, TimeUnit.SECONDS);
            assertNotNull(got);
            assertEquals("n" + i, new String(got.payload(), StandardCharsets.UTF_8));
        }
    }
}
