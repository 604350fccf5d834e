package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.storage.eventlog.StartPosition;
import io.ferryhub.hub.storage.eventlog.StoredEvent;
import io.ferryhub.hub.service.telemetry.EventStreamService;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

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
        String[] ids = clientId.split("/", 2);
        if (server.registry().findDevice(ids[0]).isEmpty()) {
            server.registry().putDevice(ids[0], new Device(ids[0], null, null, null, null, null, null, false, null,
                    null), null);
        }
        String key;
        if (ids.length == 1) {
            key = server.registry().device(ids[0]).authentication().symmetricKey().primaryKey();
        } else {
            key = server.registry().putModule(ids[0], ids[1], new Module(ids[0], ids[1], null, null, null, null),
                    null).authentication().symmetricKey().primaryKey();
        }
        keys.put(clientId, key);
        return key;
    }

    /** A device or module SAS token as the SDKs make it, valid for an hour. */
    String token(String clientId, String key) {
        String resource = server.hostName() + "/devices/" + clientId.replace("/", "/modules/");
        return SasToken.create(resource, key, null, Instant.now().plusSeconds(3600));
    }

    /** Every event this device sent, oldest first, from the device's partition of the event stream. */
    List<StoredEvent> eventsOf(String deviceId) throws Exception {
        EventStreamService events = server.eventStream();
        List<StoredEvent> found = new ArrayList<>();
        for (int p = 0; p < events.partitionCount(); p++) {
            StartPosition from = StartPosition.earliest();
            while (true) {
                EventStreamService.ReadResult batch = events.read(null, p, from, 1000, Duration.ofMillis(50))
                        .get(10, TimeUnit.SECONDS);
                if (batch.events().isEmpty()) {
                    break;
                }
                for (StoredEvent e : batch.events()) {
                    if (deviceId.equals(e.data().systemProperties().get("iothub-connection-device-id"))) {
                        found.add(e);
                    }
                }
                from = new StartPosition.Offset(batch.nextOffset(), true);
            }
        }
        return found;
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

    /** A client-side TLS context trusting the hub's CA. */
    SSLContext clientTls() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (var in = Files.newInputStream(server.caCertificatePath())) {
            trust.setCertificateEntry("hub-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
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
