package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.telemetry.StoredEvent;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;

/**
 * A real hub (TLS with its generated CA, registry, SAS authenticator, MQTT on an ephemeral port, event stream,
 * C2D) for the MQTT tests, with helpers to register identities and read the event stream back.
 */
final class MqttTestHub implements AutoCloseable {
    /** The name clients dial: the hub's certificate covers it. */
    static final String HOST = "localhost";

    /** The primary key of every identity registered through {@link #register}, by client id. */
    final Map<String, String> keys = new ConcurrentHashMap<>();
    final HubServer server;
    final DeviceConnections connections;
    final CloudToDeviceService c2d;
    private final Path dataDir;
    private final boolean ownsDataDir;

    MqttTestHub() throws Exception {
        this(Files.createTempDirectory("mqtt-test-hub"), true);
    }

    /** @param ownsDataDir whether {@link #close} deletes the data directory */
    MqttTestHub(Path dataDir, boolean ownsDataDir) throws Exception {
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
        server = HubServer.start(HubConfig.ephemeral(dataDir));
        connections = server.deviceConnections();
        c2d = server.cloudToDevice();
    }

    /** Registers a device ({@code id}) or module ({@code device/module}) with generated keys; returns the primary. */
    String register(String clientId) {
        String key = HubTestSupport.register(server, clientId);
        keys.put(clientId, key);
        return key;
    }

    /** A device or module SAS token as the SDKs make it, valid for an hour. */
    String token(String clientId, String key) {
        return HubTestSupport.deviceToken(server, clientId, key);
    }

    /** Every event this device sent, oldest first, from the device's partition of the event stream. */
    List<StoredEvent> eventsOf(String deviceId) throws Exception {
        return HubTestSupport.eventsOf(server, deviceId);
    }

    /** A client-side TLS context trusting the hub's CA. */
    SSLContext clientTls() throws Exception {
        return HubTestSupport.trusting(server.caCertificatePath());
    }

    /** The PEM file of the hub's CA certificate. */
    File caFile() {
        return server.caCertificatePath().toFile();
    }

    int port() {
        return server.mqttPort();
    }

    String uri() {
        return "ssl://" + HOST + ":" + server.mqttPort();
    }

    String webSocketUri() {
        return "wss://" + HOST + ":" + server.httpsPort() + MqttWebSocketEndpoint.PATH;
    }

    @Override
    public void close() throws Exception {
        server.close();
        if (ownsDataDir) {
            try (var files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
