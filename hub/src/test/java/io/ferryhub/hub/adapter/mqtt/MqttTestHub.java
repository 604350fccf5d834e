package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.storage.c2d.FileC2dStore;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.hub.storage.eventlog.EventReader;
import io.ferryhub.hub.storage.eventlog.StartPosition;
import io.ferryhub.hub.storage.eventlog.StoredEvent;
import io.ferryhub.hub.storage.eventlog.SegmentedEventLog;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The MQTT endpoint on a real TLS port with an in-test device key table standing in for the registry-backed
 * authenticator.
 */
final class MqttTestHub implements AutoCloseable {
    static final String HOST = "localhost";

    final Map<String, String> keys = new ConcurrentHashMap<>();
    final MqttTopicHandlers topicHandlers = new MqttTopicHandlers();
    final DeviceConnections connections;
    final Path dataDir;
    private final boolean ownsDataDir;
    final SegmentedEventLog eventLog;
    final TelemetryService telemetry;
    final CloudToDeviceService c2d;
    private final EventLoopGroup acceptors = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ExecutorService blocking = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final java.security.cert.X509Certificate certificate;
    private final Path certificateFile;
    private final MqttTlsListener listener;
    private final io.netty.channel.Channel httpsChannel;

    MqttTestHub() throws Exception {
        this(CloudToDeviceService.Settings.DEFAULTS);
    }

    MqttTestHub(CloudToDeviceService.Settings c2dSettings) throws Exception {
        this(c2dSettings, Files.createTempDirectory("mqtt-test-hub"), true);
    }

    /** @param ownsDataDir whether {@link #close} deletes the data directory */
    MqttTestHub(CloudToDeviceService.Settings c2dSettings, Path dataDir, boolean ownsDataDir) throws Exception {
        this.ownsDataDir = ownsDataDir;
        SelfSignedCertificate generated = new SelfSignedCertificate(HOST);
        SslContext serverTls = SslContextBuilder.forServer(generated.certificate(), generated.privateKey()).build();
        certificate = generated.cert();
        // kept with the data, so nothing is left in the temp directory even when the process is killed
        certificateFile = dataDir.resolve("hub-cert.pem");
        Files.createDirectories(dataDir);
        Files.copy(generated.certificate().toPath(), certificateFile,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        generated.delete();
        connections = new DeviceConnections(timer);
        this.dataDir = dataDir;
        eventLog = new SegmentedEventLog(dataDir.resolve("events"), SegmentedEventLog.Options.defaults());
        telemetry = new TelemetryService(eventLog);
        topicHandlers.add(new TelemetryTopicHandler(telemetry));
        c2d = new CloudToDeviceService(new FileC2dStore(dataDir.resolve("c2d")), c2dSettings, keys::containsKey,
                java.time.Clock.systemUTC());
        topicHandlers.add(new C2dTopicHandler(c2d));
        MqttDeviceEndpoint endpoint = new MqttDeviceEndpoint(this::authenticate, connections, topicHandlers, blocking,
                MqttSettings.DEFAULTS);
        listener = MqttTlsListener.bind(acceptors, workers, serverTls, endpoint, "127.0.0.1", 0);
        httpsChannel = WebSocketOnlyHttpsServer.bind(acceptors, workers, serverTls, new MqttWebSocketEndpoint(endpoint));
    }

    private AuthenticatedDevice authenticate(String deviceId, String moduleId, String token,
                                             java.security.cert.X509Certificate[] chain) {
        String clientId = moduleId == null ? deviceId : deviceId + "/" + moduleId;
        String key = keys.get(clientId);
        if (key == null) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, clientId + " is not registered");
        }
        if (token == null) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, "no token");
        }
        SasToken sas = SasToken.parse(token);
        String expected = HOST + "/devices/" + deviceId + (moduleId == null ? "" : "/modules/" + moduleId);
        if (!sas.resource().equals(expected) || !sas.isSignedWith(Base64.getDecoder().decode(key))
                || sas.isExpiredAt(Instant.now())) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, "bad token for " + clientId);
        }
        return new AuthenticatedDevice(deviceId, moduleId, "sas", "637000000000000000",
                sas.expiry().getEpochSecond());
    }

    /** Registers an identity with a fresh key and returns the key. */
    String register(String clientId) {
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        String encoded = Base64.getEncoder().encodeToString(key);
        keys.put(clientId, encoded);
        return encoded;
    }

    String token(String clientId, String key) {
        String resource = HOST + "/devices/" + clientId.replace("/", "/modules/");
        return SasToken.create(resource, key, null, Instant.now().plusSeconds(3600));
    }

    /** Every event of the device's partition sent by this device, oldest first. */
    List<StoredEvent> eventsOf(String deviceId) throws InterruptedException {
        List<StoredEvent> events = new ArrayList<>();
        try (EventReader reader = eventLog.openReader(telemetry.partitionFor(deviceId), StartPosition.earliest())) {
            List<StoredEvent> batch;
            while (!(batch = reader.poll(1000, Duration.ofMillis(100))).isEmpty()) {
                for (StoredEvent e : batch) {
                    if (deviceId.equals(e.data().systemProperties().get("iothub-connection-device-id"))) {
                        events.add(e);
                    }
                }
            }
        }
        return events;
    }

    /** The PEM file of the certificate clients must trust (self-signed, so it is its own CA). */
    java.io.File caFile() {
        return certificateFile.toFile();
    }

    int port() {
        return listener.port();
    }

    String webSocketUri() {
        return "wss://" + HOST + ":" + ((java.net.InetSocketAddress) httpsChannel.localAddress()).getPort()
                + MqttWebSocketEndpoint.PATH;
    }

    String uri() {
        return "ssl://" + HOST + ":" + listener.port();
    }

    /** A client-side TLS context trusting the hub's certificate. */
    SSLContext clientTls() throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("hub", certificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    @Override
    public void close() throws Exception {
        listener.close();
        httpsChannel.close().sync();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        blocking.shutdownNow();
        timer.shutdownNow();
        eventLog.close();
        c2d.close();
        if (ownsDataDir) {
            try (var files = Files.walk(dataDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
