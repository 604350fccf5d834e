package io.ferryhub.hub.fuzz;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.adapter.amqp.AmqpEndpoint;
import io.ferryhub.hub.adapter.amqp.AmqpLimits;
import io.ferryhub.hub.adapter.amqp.EventHubsEndpoint;
import io.ferryhub.hub.adapter.mqtt.MqttDeviceEndpoint;
import io.ferryhub.hub.adapter.mqtt.MqttSettings;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.hub.storage.eventlog.EventLog;
import io.ferryhub.hub.storage.eventlog.EventReader;
import io.ferryhub.hub.storage.sessions.SessionStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real hub for the protocol fuzzers, with the device {@value #DEVICE} registered under a fixed key (so committed
 * corpora can carry valid SAS tokens for it), and the MQTT and AMQP endpoints built from the hub's services the way
 * {@link HubServer} builds them. Telemetry goes to an in-memory log and MQTT sessions to an in-memory store, so that
 * fuzzing writes no files.
 */
public final class FuzzHub implements AutoCloseable {
    public static final String DEVICE = "fuzz-device";
    public static final String KEY = "ZnV6ei1kZXZpY2UtcHJpbWFyeS1rZXktMDEyMzQ1Njc=";
    /** Committed corpora name this expiry, so their tokens stay valid. */
    public static final Instant TOKEN_EXPIRY = Instant.parse("2100-01-01T00:00:00Z");

    /** The hub's default deadline and bounds: fuzz inputs either authenticate or are cut off as any client's. */
    public static final AuthenticationGuard GUARD = new AuthenticationGuard(Duration.ofSeconds(30), 64);

    public final HubServer hub;
    public final MqttDeviceEndpoint mqtt;
    public final AmqpEndpoint amqp;

    public FuzzHub(Path dir) throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dir));
        hub.registry().putDevice(DEVICE, new Device(DEVICE, null, null, null, null, null,
                Authentication.sas(KEY, KEY), false, null, null), null);
        PersistentSessions sessions = new PersistentSessions(new MemorySessionStore(), hub.registry(),
                InstantSource.system(), Duration.ofDays(1));
        mqtt = new MqttDeviceEndpoint(hub.deviceAuthenticator(), hub.deviceConnections(), sessions,
                hub.mqttTopicHandlers(), hub.requestExecutor(), MqttSettings.DEFAULTS, GUARD);
        amqp = new AmqpEndpoint(hub.deviceAuthenticator(), hub.serviceAuthenticator(), hub.hostAliases(),
                hub.deviceConnections(), new TelemetryService(new MemoryEventLog()), hub.cloudToDevice(),
                hub.requestExecutor(), AmqpLimits.DEFAULTS, GUARD);
        amqp.serveEventHubs(new EventHubsEndpoint(hub.eventHubName(), Instant.now(), hub.eventStream(),
                hub.serviceAuthenticator()));
        amqp.serveDeviceChannels(new AmqpEndpoint.DeviceServices(hub.twins(), new DirectMethodService(hub.registry(),
                hub.deviceConnections(), hub.scheduler(), hub.requestExecutor()), hub.streams()));
    }

    /** The device's SAS token as the SDKs make it, valid until {@link #TOKEN_EXPIRY}. */
    public String deviceToken() {
        return SasToken.create(hub.hostName() + "/devices/" + DEVICE, KEY, null, TOKEN_EXPIRY);
    }

    /** An iothubowner token for this run (policy keys are generated per hub, so corpora name it by placeholder). */
    public String ownerToken() {
        var owner = hub.policies().find("iothubowner").orElseThrow();
        return SasToken.create(hub.hostName(), owner.primaryKey(), "iothubowner", Instant.now().plusSeconds(3600));
    }

    /** Replaces every {@code {{owner}}} in an input with a valid owner token, after mutation. */
    public byte[] withOwnerToken(byte[] input, byte[] token) {
        byte[] placeholder = "{{owner}}".getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(input.length + 256);
        int i = 0;
        while (i < input.length) {
            if (startsWith(input, i, placeholder)) {
                out.writeBytes(token);
                i += placeholder.length;
            } else {
                out.write(input[i++]);
            }
        }
        return out.toByteArray();
    }

    private static boolean startsWith(byte[] data, int at, byte[] prefix) {
        if (at + prefix.length > data.length) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (data[at + k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        hub.close();
    }

    /** Appends complete at once, on the caller's thread. */
    public static final class MemoryEventLog implements EventLog {
        private long next;

        @Override
        public int partitionCount() {
            return 4;
        }

        @Override
        public synchronized CompletableFuture<EventPosition> append(int partition, EventData event) {
            long n = next++;
            return CompletableFuture.completedFuture(new EventPosition(partition, n, n * 100,
                    System.currentTimeMillis()));
        }

        @Override
        public EventReader openReader(int partition, StartPosition start) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PartitionInfo partitionInfo(int partition) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    /** MQTT persistent sessions in memory; writes complete at once. */
    public static final class MemorySessionStore implements SessionStore {
        private final Map<String, StoredSession> sessions = new ConcurrentHashMap<>();

        @Override
        public Optional<StoredSession> get(String deviceId, String moduleId) {
            return Optional.ofNullable(sessions.get(deviceId + "/" + moduleId));
        }

        @Override
        public CompletableFuture<Void> put(String deviceId, String moduleId, StoredSession session) {
            sessions.put(deviceId + "/" + moduleId, session);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> delete(String deviceId, String moduleId) {
            sessions.remove(deviceId + "/" + moduleId);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> deleteDevice(String deviceId) {
            sessions.keySet().removeIf(k -> k.startsWith(deviceId + "/"));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public List<Entry> scan(String afterDeviceId, String afterModuleId, int limit) {
            return List.of();
        }
    }
}
