package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.sessions.KeyValueSessionStore;
import io.ferryhub.hub.storage.sessions.SessionStore.StoredSession;
import io.netty.buffer.ByteBuf;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IoT Hub serves a handful of topic filters per identity; the hub grants those, refuses every other filter with
 * SUBACK 0x80, holds at most {@link MqttSettings#maxSubscriptions()} per session, and writes a persistent session
 * only when its subscriptions change. Eclipse Paho over real TLS, against the hub's real storage.
 */
class MqttSubscriptionLimitTest {
    private static final int REFUSED = 0x80;
    /** What the SDKs subscribe to, a device's C2D filter first (filled in per device). */
    private static final String[] SERVED = {"devices/%s/messages/devicebound/#", "$iothub/twin/res/#",
            "$iothub/twin/PATCH/properties/desired/#", "$iothub/methods/POST/#", "$iothub/streams/POST/#",
            "$iothub/streams/res/#"};

    @TempDir
    Path dataDir;
    private final List<MqttClient> clients = new ArrayList<>();
    private MqttTestHub hub;

    @AfterEach
    void stop() throws Exception {
        for (MqttClient client : clients) {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 1000);
            }
            client.close(true);
        }
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    void onlyIotHubsFiltersAreGrantedEveryOtherFilterInTheOwnSpaceIsRefused() throws Exception {
        hub = new MqttTestHub(dataDir, false);
        hub.register("junk-dev");
        hub.register("junk-dev/m1");
        MqttClient device = connect("junk-dev", false);
        List<String> junk = junkFilters("junk-dev", 0, 1000);
        String[] filters = Stream.concat(served("junk-dev").stream(), junk.stream()).toArray(String[]::new);
        int[] granted = subscribe(device, filters);

        int[] expected = new int[filters.length];
        Arrays.fill(expected, REFUSED);
        Arrays.fill(expected, 0, SERVED.length, 1);
        assertArrayEquals(expected, granted, "IoT Hub's filters granted, the 1,000 others refused with 0x80");
        assertTrue(device.isConnected(), "a refused filter is no reason to close the connection");

        // the issue's load: 60 SUBSCRIBEs of 1,000 new filters each (2.3 MB) into a persistent session
        Path journal = hub.server.dataDir().resolve("registry");
        long before = sizeOf(journal);
        for (int round = 1; round <= 60; round++) {
            int[] codes = subscribe(device, junkFilters("junk-dev", round * 1000, 1000).toArray(String[]::new));
            assertTrue(Arrays.stream(codes).allMatch(code -> code == REFUSED), "round " + round);
        }
        long growth = sizeOf(journal) - before;
        System.out.printf("storage growth after 60 SUBSCRIBEs of 1,000 refused filters: %d bytes%n", growth);
        assertTrue(growth < 1024, "refused filters grew the storage by " + growth + " bytes");

        // a module's C2D filter names the module; the device form is not its own, any subtopic is refused
        MqttClient module = connect("junk-dev/m1", false);
        assertArrayEquals(new int[]{1, 1, REFUSED, REFUSED},
                subscribe(module, "devices/junk-dev/modules/m1/messages/devicebound/#", "$iothub/methods/POST/#",
                        "devices/junk-dev/modules/m1/messages/devicebound/x/#", "devices/junk-dev/modules/m1/#"));
    }

    @Test
    void aSessionHoldsAtMostTheLimitOfSubscriptions() throws Exception {
        hub = new MqttTestHub(dataDir, false);
        int limit = MqttSettings.DEFAULTS.maxSubscriptions();
        // a feature serving open-ended filters: the limit, not the filter table, bounds what a session holds
        hub.server.mqttTopicHandlers().add(new OpenEndedHandler("$iothub/ferrytest/"));
        hub.register("cap-dev");
        MqttClient device = connect("cap-dev", false);
        String[] filters = new String[limit + 4];
        for (int i = 0; i < filters.length; i++) {
            filters[i] = "$iothub/ferrytest/" + i + "/#";
        }
        int[] expected = new int[filters.length];
        Arrays.fill(expected, REFUSED);
        Arrays.fill(expected, 0, limit, 1);
        assertArrayEquals(expected, subscribe(device, filters));
        // a filter already held may be subscribed again (a new QoS), and a freed place may be taken
        assertArrayEquals(new int[]{0, REFUSED}, device.subscribeWithResponse(
                new String[]{filters[0], filters[limit]}, new int[]{0, 1}).getGrantedQos());
        device.unsubscribe(filters[1]);
        assertArrayEquals(new int[]{1, REFUSED}, subscribe(device, filters[limit], filters[limit + 1]));
        assertTrue(device.isConnected());
    }

    @Test
    void subscribingAgainToTheSameFiltersWritesNothing() throws Exception {
        hub = new MqttTestHub(dataDir, false);
        hub.register("again-dev");
        MqttClient device = connect("again-dev", false);
        String[] filters = served("again-dev").toArray(String[]::new);
        subscribe(device, filters);
        Path journal = hub.server.dataDir().resolve("registry");
        long before = sizeOf(journal);
        for (int i = 0; i < 200; i++) {
            int[] granted = subscribe(device, filters);
            assertEquals(1, granted[granted.length - 1]);
        }
        long growth = sizeOf(journal) - before;
        System.out.printf("storage growth after 200 SUBSCRIBEs of the same %d filters: %d bytes%n", filters.length,
                growth);
        assertTrue(growth < 1024, "the storage grew by " + growth + " bytes for subscriptions that did not change");

        // the unchanged SUBSCRIBEs left the session as it was
        device.disconnect();
        hub.close();
        hub = null;
        assertEquals(Map.of(filters[0], 1, filters[1], 1, filters[2], 1, filters[3], 1, filters[4], 1,
                filters[5], 1), storedSession("again-dev").subscriptions());
    }

    @Test
    void aStoredSessionIsCutDownToTheFiltersTheHubServes() throws Exception {
        hub = new MqttTestHub(dataDir, false);
        String key = hub.register("old-dev");
        MqttClient device = connect("old-dev", false);
        String c2d = "devices/old-dev/messages/devicebound/#";
        subscribe(device, c2d);
        device.disconnect();
        hub.close();
        hub = null;

        // as an earlier version stored it: every filter the device ever subscribed, served or not
        StoredSession stored = storedSession("old-dev");
        Map<String, Integer> bloated = new HashMap<>(stored.subscriptions());
        junkFilters("old-dev", 0, 1000).forEach(filter -> bloated.put(filter, 1));
        try (JournalStore store = JournalStore.open(dataDir.resolve("registry"))) {
            new KeyValueSessionStore(store).put("old-dev", null,
                    new StoredSession(stored.generationId(), bloated, stored.lastUsedMillis())).join();
        }

        hub = new MqttTestHub(dataDir, false);
        hub.keys.put("old-dev", key);
        MqttClient resumed = connect("old-dev", false);
        assertTrue(MqttConnectTest.waitFor(() -> hub.connections.isConnected("old-dev", null)));
        resumed.disconnect();
        hub.close();
        hub = null;
        assertEquals(Map.of(c2d, 1), storedSession("old-dev").subscriptions());
    }

    /** Under the device's own space, each refused by IoT Hub: method names, twin and C2D subtopics. */
    private static List<String> junkFilters(String deviceId, int first, int count) {
        List<String> junk = new ArrayList<>();
        for (int i = first; junk.size() < count; i++) {
            junk.add(switch (i % 5) {
                case 0 -> "$iothub/methods/POST/method-" + i + "/#";
                case 1 -> "$iothub/twin/res/" + i + "/#";
                case 2 -> "$iothub/twin/PATCH/properties/desired/" + i;
                case 3 -> "devices/" + deviceId + "/messages/devicebound/" + i + "/#";
                default -> "devices/" + deviceId + "/junk/" + i;
            });
        }
        return junk;
    }

    private static List<String> served(String deviceId) {
        List<String> filters = new ArrayList<>(Arrays.asList(SERVED));
        filters.set(0, SERVED[0].formatted(deviceId));
        return filters;
    }

    private MqttClient connect(String clientId, boolean cleanSession) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(cleanSession);
        options.setAutomaticReconnect(false);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setConnectionTimeout(10);
        options.setUserName(MqttTestHub.HOST + "/" + clientId + "/?api-version=2021-04-12");
        options.setPassword(hub.token(clientId, hub.keys.get(clientId)).toCharArray());
        MqttClient client = new MqttClient(hub.uri(), clientId, new MemoryPersistence());
        clients.add(client);
        client.setTimeToWait(30_000);
        client.connect(options);
        return client;
    }

    /** Subscribes at QoS 1; the codes the SUBACK granted. */
    private static int[] subscribe(MqttClient client, String... filters) throws MqttException {
        int[] qos = new int[filters.length];
        Arrays.fill(qos, 1);
        IMqttToken token = client.subscribeWithResponse(filters, qos);
        return token.getGrantedQos();
    }

    private StoredSession storedSession(String deviceId) throws IOException {
        try (JournalStore store = JournalStore.open(dataDir.resolve("registry"))) {
            return new KeyValueSessionStore(store).get(deviceId, null).orElseThrow();
        }
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    /** Owns every filter under a prefix, as the twin and method handlers once did. */
    private record OpenEndedHandler(String prefix) implements MqttTopicHandler {
        @Override
        public boolean ownsPublish(String topic) {
            return false;
        }

        @Override
        public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean ownsSubscription(String topicFilter) {
            return topicFilter.startsWith(prefix);
        }
    }
}
