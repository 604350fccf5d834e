package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.ferryhub.hub.storage.eventlog.EventReader;
import io.ferryhub.hub.storage.eventlog.SegmentedEventLog;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub process is killed with SIGKILL while devices publish at QoS 1. After a restart the devices resend the
 * message they had in flight, as MQTT devices do; then every message the hub acknowledged is in the event stream,
 * and a message is there twice only if it was resent.
 */
class MqttDurabilityTest {
    private static final int DEVICES = 4;
    private static final int ACKS_BEFORE_KILL = 400;

    @TempDir
    Path dataDir;

    /** A hub child process on {@link #dataDir}, with the devices registered. */
    private final class ChildHub implements AutoCloseable {
        final Process process;
        final int port;
        final SSLContext tls;
        final Map<String, String> keys = new HashMap<>();

        ChildHub() throws Exception {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ChildHubMain.class.getName(), dataDir.toString()));
            for (int d = 0; d < DEVICES; d++) {
                command.add("kill-dev-" + d);
            }
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String[] ready = out.readLine().split(" ");
            assertEquals("READY", ready[0]);
            port = Integer.parseInt(ready[1]);
            tls = HubTestSupport.trusting(Path.of(ready[2]));
            for (int d = 0; d < DEVICES; d++) {
                String[] key = out.readLine().split(" ");
                assertEquals("KEY", key[0]);
                keys.put(key[1], key[2]);
            }
        }

        MqttClient connect(String deviceId) throws Exception {
            MqttClient client = new MqttClient("ssl://localhost:" + port, deviceId, new MemoryPersistence());
            MqttConnectOptions options = new MqttConnectOptions();
            options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            options.setSocketFactory(tls.getSocketFactory());
            options.setUserName("localhost/" + deviceId + "/?api-version=2020-09-30");
            options.setPassword(SasToken.create("127.0.0.1/devices/" + deviceId, keys.get(deviceId), null,
                    Instant.now().plusSeconds(600)).toCharArray());
            options.setAutomaticReconnect(false);
            client.setTimeToWait(10_000);
            client.connect(options);
            return client;
        }

        /** SIGKILL: no shutdown hook, no flush. */
        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void publish(MqttClient client, String deviceId, String mid) throws MqttException {
        client.publish("devices/" + deviceId + "/messages/events/$.mid=" + mid, mid.getBytes(StandardCharsets.UTF_8),
                1, false);
    }

    @Test
    void everyAcknowledgedMessageSurvivesKillMinus9AndOnlyResentOnesAppearTwice() throws Exception {
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        Map<String, String> inFlight = new ConcurrentHashMap<>(); // per device: sent, PUBACK not seen
        List<Thread> publishers = new ArrayList<>();
        try (ChildHub hub = new ChildHub()) {
            AtomicInteger acks = new AtomicInteger();
            CountDownLatch enough = new CountDownLatch(1);
            for (int d = 0; d < DEVICES; d++) {
                String deviceId = "kill-dev-" + d;
                MqttClient client = hub.connect(deviceId);
                Thread publisher = new Thread(() -> {
                    try {
                        for (int seq = 0; ; seq++) {
                            String mid = deviceId + "-" + seq;
                            attempted.add(mid);
                            inFlight.put(deviceId, mid);
                            publish(client, deviceId, mid);
                            acknowledged.add(mid); // publish returned: the PUBACK came
                            inFlight.remove(deviceId);
                            if (acks.incrementAndGet() >= ACKS_BEFORE_KILL) {
                                enough.countDown();
                            }
                        }
                    } catch (MqttException connectionGone) {
                        // the hub was killed
                    } finally {
                        try {
                            client.close(true);
                        } catch (MqttException ignored) {
                            // already closed
                        }
                    }
                });
                publisher.start();
                publishers.add(publisher);
            }
            assertTrue(enough.await(60, TimeUnit.SECONDS), "devices did not get " + ACKS_BEFORE_KILL + " acks");
        }
        for (Thread publisher : publishers) {
            publisher.join(30_000);
        }

        // the restarted hub: each device resends what it never saw acknowledged
        Set<String> resent = new HashSet<>(inFlight.values());
        try (ChildHub hub = new ChildHub()) {
            for (Map.Entry<String, String> unacknowledged : inFlight.entrySet()) {
                MqttClient client = hub.connect(unacknowledged.getKey());
                publish(client, unacknowledged.getKey(), unacknowledged.getValue());
                acknowledged.add(unacknowledged.getValue());
                client.disconnect();
                client.close();
            }
        }

        Map<String, Integer> stored = new HashMap<>();
        try (SegmentedEventLog log = new SegmentedEventLog(dataDir.resolve("events"),
                SegmentedEventLog.Options.defaults())) {
            for (int p = 0; p < log.partitionCount(); p++) {
                try (EventReader reader = log.openReader(p, StartPosition.earliest())) {
                    List<StoredEvent> batch;
                    while (!(batch = reader.poll(1000, Duration.ofMillis(100))).isEmpty()) {
                        for (StoredEvent e : batch) {
                            String mid = e.data().systemProperties().get("message-id");
                            assertEquals(mid, new String(e.data().body(), StandardCharsets.UTF_8));
                            stored.merge(mid, 1, Integer::sum);
                        }
                    }
                }
            }
        }
        assertTrue(acknowledged.size() >= ACKS_BEFORE_KILL);
        for (String mid : acknowledged) {
            assertTrue(stored.containsKey(mid), "acknowledged message " + mid + " was lost");
        }
        for (Map.Entry<String, Integer> e : stored.entrySet()) {
            assertTrue(attempted.contains(e.getKey()), "stored message " + e.getKey() + " was never sent");
            int allowed = resent.contains(e.getKey()) ? 2 : 1;
            assertTrue(e.getValue() <= allowed, e.getKey() + " stored " + e.getValue() + " times");
        }
    }
}
