package io.ferryhub.hub.server;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.files.OwnerOnlyTree;
import io.ferryhub.common.ipfilter.AddressGate;
import io.ferryhub.common.ipfilter.IpFilter;
import io.ferryhub.common.metrics.Metrics;
import io.ferryhub.common.metrics.MetricsEndpoint;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.EventHubsConnectionString;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.gateway.StreamRecordings;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.gateway.UsedStreamTokens;
import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.adapter.BlockedAddressPolicy;
import io.ferryhub.hub.adapter.TlsListenerInitializer;
import io.ferryhub.hub.adapter.amqp.AmqpEndpoint;
import io.ferryhub.hub.adapter.amqp.AmqpLimits;
import io.ferryhub.hub.adapter.amqp.AmqpWebSocketEndpoint;
import io.ferryhub.hub.adapter.amqp.EventHubsEndpoint;
import io.ferryhub.hub.adapter.http.CloudToDeviceRoutes;
import io.ferryhub.hub.adapter.http.EventStreamRoutes;
import io.ferryhub.hub.adapter.http.HttpsChannelInitializer;
import io.ferryhub.hub.adapter.http.MethodRoutes;
import io.ferryhub.hub.adapter.http.QueryRoutes;
import io.ferryhub.hub.adapter.http.RestRouter;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.adapter.http.StreamPolicyRoutes;
import io.ferryhub.hub.adapter.http.StreamRoutes;
import io.ferryhub.hub.adapter.http.TwinRoutes;
import io.ferryhub.hub.adapter.http.device.DeviceMessagingRoutes;
import io.ferryhub.hub.adapter.http.management.CertificateRoutes;
import io.ferryhub.hub.adapter.http.management.IpFilterRoutes;
import io.ferryhub.hub.adapter.http.management.SharedAccessPolicyRoutes;
import io.ferryhub.hub.adapter.http.registry.RegistryRoutes;
import io.ferryhub.hub.adapter.mqtt.C2dTopicHandler;
import io.ferryhub.hub.adapter.mqtt.MethodTopicHandler;
import io.ferryhub.hub.adapter.mqtt.MqttDeviceEndpoint;
import io.ferryhub.hub.adapter.mqtt.MqttSettings;
import io.ferryhub.hub.adapter.mqtt.MqttTopicHandlers;
import io.ferryhub.hub.adapter.mqtt.MqttWebSocketEndpoint;
import io.ferryhub.hub.adapter.mqtt.StreamTopicHandler;
import io.ferryhub.hub.adapter.mqtt.TelemetryTopicHandler;
import io.ferryhub.hub.adapter.mqtt.TwinTopicHandler;
import io.ferryhub.hub.adapter.websocket.RevocationFeedEndpoint;
import io.ferryhub.hub.adapter.websocket.StreamGatewayEndpoint;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.hub.server.tls.ServerTls;
import io.ferryhub.hub.service.auth.CertificateAuthorities;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.ferryhub.hub.service.auth.MonitoredDeviceAuthenticator;
import io.ferryhub.hub.service.auth.HostAliases;
import io.ferryhub.hub.service.auth.RegistryDeviceAuthenticator;
import io.ferryhub.hub.service.auth.SasServiceAuthenticator;
import io.ferryhub.hub.service.auth.ServiceAuthenticator;
import io.ferryhub.hub.service.auth.ServiceGrants;
import io.ferryhub.hub.service.auth.SharedAccessPolicies;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.ipfilter.IpFilterService;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.query.QueryService;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.ferryhub.hub.service.sessions.SessionExpiry;
import io.ferryhub.hub.service.streams.RegistryDeviceDirectory;
import io.ferryhub.hub.service.streams.StreamAuditLog;
import io.ferryhub.hub.service.streams.StreamPolicies;
import io.ferryhub.hub.service.streams.StreamRevocations;
import io.ferryhub.hub.service.streams.StreamService;
import io.ferryhub.hub.service.telemetry.EventStreamService;
import io.ferryhub.hub.service.throttling.DailyMessageQuota;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.ferryhub.hub.service.throttling.ThrottledConnects;
import io.ferryhub.hub.service.throttling.Throttles;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.hub.service.twin.TwinChangeEventLog;
import io.ferryhub.hub.service.twin.TwinService;
import io.ferryhub.hub.storage.c2d.FileC2dStore;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.eventlog.FileConsumerGroupStore;
import io.ferryhub.hub.storage.eventlog.EventLog;
import io.ferryhub.hub.storage.eventlog.SegmentedEventLog;
import io.ferryhub.hub.storage.ipfilter.KeyValueIpFilterStore;
import io.ferryhub.hub.storage.registry.KeyValueCaCertificateStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import io.ferryhub.hub.storage.sessions.KeyValueSessionStore;
import io.ferryhub.hub.storage.streams.KeyValueStreamPolicyStore;
import io.ferryhub.hub.storage.twin.KeyValueTwinStore;
import io.ferryhub.signaling.StreamTokenIssuer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A running hub: storage, PKI, services and listeners assembled in one place ({@link #start}). Startable in-process
 * (tests of every module use {@link HubConfig#ephemeral}) and by the {@code iothub start} command.
 *
 * <p>Features plug in here: they register REST routes on {@link #restRoutes()}, WebSocket endpoints with
 * {@link #addWebSocketEndpoint}, listeners with {@link #bindListener}, and reach devices through
 * {@link #deviceConnections()}.
 */
public final class HubServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HubServer.class);
    /** Where the iothubowner connection string is written on first start, readable by the owner only. */
    public static final String OWNER_CONNECTION_STRING_FILE = "iothubowner.connection-string";
    /** Where the built-in endpoint's Event Hubs connection string (iothubowner's key) is written, owner-only. */
    public static final String EVENT_HUBS_CONNECTION_STRING_FILE = "eventhubs.connection-string";
    /** The key stream tokens are signed with; a stand-alone streaming gateway is given a copy of this file. */
    public static final String STREAM_TOKEN_KEY_FILE = "stream-token.key";
    /** The streams whose tokens the embedded gateway accepted, until they expire (a token works once). */
    public static final String USED_STREAM_TOKENS_FILE = "used-stream-tokens";
    private static final int REQUEST_QUEUE = 10_000;
    /** Stream recordings, under the data directory. */
    public static final String RECORDINGS_DIR = "recordings";
    public static final Duration DEFAULT_RECORDING_MAX_AGE = Duration.ofDays(30);
    public static final long DEFAULT_RECORDING_MAX_BYTES = 1L << 30;

    private final HubConfig config;
    private final HostAliases aliases;
    private final List<Channel> listeners = new ArrayList<>();
    private final Map<String, Integer> boundPorts = new LinkedHashMap<>();
    private final List<WebSocketEndpoint> webSocketEndpoints = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private ScheduledExecutorService scheduler;
    private ThreadPoolExecutor requestExecutor;
    private JournalStore store;
    private SharedAccessPolicies policies;
    private CertificateAuthorities certificateAuthorities;
    private RegistryService registry;
    private DeviceConnections connections;
    private StreamService streams;
    private StreamGateway streamGateway;
    private DeviceAuthenticator deviceAuthenticator;
    private ServiceAuthenticator serviceAuthenticator;
    private RestRouter router;
    private SslContext sslContext;
    private Path caCertificate;
    private int httpsPort = -1;
    private int mqttPort = -1;
    private int amqpPort = -1;
    private final MqttTopicHandlers mqttTopicHandlers = new MqttTopicHandlers();
    private EventStreamService eventStream;
    private CloudToDeviceService cloudToDevice;
    private TwinService twins;
    private SegmentedEventLog twinChangeEvents;
    private volatile boolean closed;
    private final Clock streamClock;
    private final Metrics metrics = new Metrics();
    private IpFilterService ipFilter;
    private AddressGate addressGate;
    private final TrafficLimits limits;
    private Throttles throttles = Throttles.off();
    private FailedAuthentications failedAuthentications;
    private DailyMessageQuota dailyQuota = DailyMessageQuota.unlimited();

    private HubServer(HubConfig config, Clock streamClock, TrafficLimits limits) {
        this.config = config;
        this.streamClock = streamClock;
        this.limits = limits;
        this.aliases = new HostAliases(config.hostName(), aliasesOf(config));
    }

    /** Starts a hub; on failure everything already started is stopped again. */
    public static HubServer start(HubConfig config) throws HubStartException {
        return start(config, Clock.systemUTC());
    }

    /**
     * Starts a hub whose device streams run on {@code streamClock}: stream policy hours and stream token expiry
     * (tests move it to check hours without waiting for them).
     */
    public static HubServer start(HubConfig config, Clock streamClock) throws HubStartException {
        return start(config, streamClock, TrafficLimits.none());
    }

    /** Starts a hub with throttles, a daily quota and a failed-authentication lock-out ({@code iothub start}). */
    public static HubServer start(HubConfig config, Clock streamClock, TrafficLimits limits)
            throws HubStartException {
        HubServer hub = new HubServer(config, streamClock, limits);
        try {
            hub.assemble();
            return hub;
        } catch (HubStartException e) {
            hub.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            hub.close();
            throw new HubStartException("the hub could not start: " + e.getMessage(), e);
        }
    }

    private void assemble() throws IOException, HubStartException {
        Path dataDir = config.dataDir().toAbsolutePath();
        OwnerOnlyFiles.createDirectories(dataDir);
        try {
            // before anything reads it: it holds every key, so it must be ours and closed to other local users
            OwnerOnlyTree.secure(dataDir, "data directory");
        } catch (OwnerOnlyTree.NotOwnedException e) {
            throw new HubStartException(e.getMessage(), e);
        }
        // TLS set-up (JDK TLS initialisation, certificates) runs beside the journal replay: both take seconds.
        CompletableFuture<Void> tls = CompletableFuture.runAsync(() -> prepareTls(dataDir),
                task -> daemonThreads("hub-tls-setup").newThread(task).start());
        store = JournalStore.open(dataDir.resolve("registry"));
        KeyValueRegistryStore registryStore = new KeyValueRegistryStore(store);
        policies = new SharedAccessPolicies(registryStore);
        try {
            tls.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
        if (policies.createdNow()) {
            HubPki.writeSecret(dataDir.resolve(OWNER_CONNECTION_STRING_FILE), ownerConnectionString() + "\n");
        }
        if ((policies.createdNow() || !Files.exists(dataDir.resolve(EVENT_HUBS_CONNECTION_STRING_FILE)))
                && policies.find(SharedAccessPolicies.IOTHUBOWNER).isPresent()) {
            HubPki.writeSecret(dataDir.resolve(EVENT_HUBS_CONNECTION_STRING_FILE),
                    eventHubsConnectionString() + "\n");
        }
        policies.onChange(name -> ownerKeysChanged(name, dataDir));
        // a regenerated key or a deleted policy closes what its keys opened: AMQP service grants, streams
        ServiceGrants serviceGrants = new ServiceGrants();
        policies.onKeysRevoked(serviceGrants::revoke);

        scheduler = Executors.newSingleThreadScheduledExecutor(daemonThreads("hub-timer"));
        requestExecutor = new ThreadPoolExecutor(config.requestThreads(), config.requestThreads(), 60,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(REQUEST_QUEUE), daemonThreads("hub-rest"));
        connections = new DeviceConnections(scheduler);
        ConnectionStates states = new ConnectionStates();
        connections.addListener(states);
        registry = new RegistryService(registryStore, connections, states);
        Clock clock = Clock.systemUTC();
        serviceAuthenticator = new SasServiceAuthenticator(policies, aliases, clock);
        certificateAuthorities = new CertificateAuthorities(new KeyValueCaCertificateStore(store), clock);
        deviceAuthenticator = new RegistryDeviceAuthenticator(registry, policies, certificateAuthorities, aliases,
                clock);
        applyTrafficLimits();
        router = new RestRouter(serviceAuthenticator, requestExecutor);
        router.throttleWith(throttles);
        SharedAccessPolicyRoutes.register(router, policies);
        // before any listener: the first connection is already filtered; a change also closes refused open ones
        IpFilter ipFilterPolicy = new IpFilter();
        List<AddressGate.Policy> gatePolicies = new ArrayList<>(List.of(ipFilterPolicy));
        if (failedAuthentications != null) {
            gatePolicies.add(new BlockedAddressPolicy(failedAuthentications));
        }
        addressGate = new AddressGate(metrics, gatePolicies);
        ipFilter = new IpFilterService(new KeyValueIpFilterStore(store));
        ipFilter.onChange(rules -> {
            ipFilterPolicy.set(rules);
            addressGate.recheck();
        });
        IpFilterRoutes.register(router, ipFilter);
        CertificateRoutes.register(router, certificateAuthorities);

        bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        workerGroup = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        httpsPort = bindListener("https", config.httpsPort(), new HttpsChannelInitializer(sslContext,
                config.maxBodyBytes(), router, webSocketEndpoints));

        // Feature wiring (MQTT, device streams, telemetry, C2D) goes here: a few lines per feature.
        GatewayConfig gatewayConfig = GatewayConfig.defaults(StreamTokenKeyFile.loadOrCreate(
                dataDir.resolve(STREAM_TOKEN_KEY_FILE))).withLimits(config.maxStreamsPerDevice(), config.maxStreams())
                .withHandshakeTimeout(config.streamHandshakeTimeout()).withIdleTimeout(config.streamIdleTimeout());
        StreamGateway gateway = new StreamGateway(gatewayConfig, streamClock);
        UsedStreamTokens usedTokens = UsedStreamTokens.open(dataDir.resolve(USED_STREAM_TOKENS_FILE), streamClock);
        closeOnStop(usedTokens);
        gateway.rememberUsedTokens(usedTokens);
        streamGateway = gateway;
        recordStreams(false, DEFAULT_RECORDING_MAX_AGE, DEFAULT_RECORDING_MAX_BYTES);
        addWebSocketEndpoint(new StreamGatewayEndpoint(gateway));
        String streamGatewayUrl = config.streamGatewayUrl() != null ? config.streamGatewayUrl()
                : "wss://" + aliases.hostName() + ":" + httpsPort;
        StreamPolicies streamPolicies = new StreamPolicies(new KeyValueStreamPolicyStore(store), registry);
        streams = new StreamService(new RegistryDeviceDirectory(registry, streamPolicies), connections,
                new StreamTokenIssuer(aliases.hostName(), streamGatewayUrl, gatewayConfig.tokenKey(),
                        gatewayConfig.handshakeTimeout()), gateway, scheduler, streamClock);
        new StreamRoutes(streams).register(router);
        new StreamPolicyRoutes(streamPolicies).register(router);
        // Disable, delete, re-key and policy changes reach open streams: here and at stand-alone gateways.
        StreamRevocations revocations = new StreamRevocations(gateway, registry, streamClock);
        registry.addLifecycleListener(revocations);
        streams.addRequestListener(revocations::requested);
        streamPolicies.onChange(revocations::policyChanged);
        policies.onKeysRevoked((policy, keyIds, why) -> revocations.initiatorKeysRevoked(policy, keyIds));
        addWebSocketEndpoint(new RevocationFeedEndpoint(revocations, new RegistryDeviceDirectory(registry,
                streamPolicies), ipFilter, gatewayConfig.tokenKey(), streamClock, policies::holds));

        SegmentedEventLog eventLog = new SegmentedEventLog(dataDir.resolve("events"),
                SegmentedEventLog.Options.defaults().withFsync(config.eventLogFsync()));
        closeOnStop(eventLog);
        eventStream = new EventStreamService(eventLog, new FileConsumerGroupStore(dataDir.resolve("consumer-groups.json")));
        closeOnStop(eventStream);
        new EventStreamRoutes(eventStream).register(router);
        cloudToDevice = new CloudToDeviceService(new FileC2dStore(dataDir.resolve("c2d")),
                CloudToDeviceService.Settings.DEFAULTS, id -> registry.findDevice(id).map(Device::generationId), clock,
                size -> {
                    throttles.admit(OperationClass.C2D);
                    dailyQuota.charge(size);
                });
        closeOnStop(cloudToDevice);
        new CloudToDeviceRoutes(cloudToDevice).register(router);
        RegistryRoutes.register(router, registry, cloudToDevice::queuedMessages);
        TelemetryService telemetry = new TelemetryService(eventLog, size -> {
            throttles.admit(OperationClass.D2C);
            dailyQuota.charge(size);
        });
        metrics.sampled("ferryhub_devices_connected", "Connected devices and modules by protocol", "gauge",
                "protocol", connections::connectedByTransport);
        metrics.sampled("ferryhub_telemetry_messages_accepted_total", "Telemetry messages stored in the event "
                + "stream", "counter", telemetry::acceptedCount);
        metrics.include(streams.metrics());
        metrics.include(gateway.metrics());
        StreamAuditLog streamAudit = new StreamAuditLog(eventLog, telemetry::partitionFor);
        gateway.onAudit(streamAudit);
        gateway.onChannelAudit(streamAudit::acceptChannel);
        streams.addDenialListener((deviceId, moduleId, streamName, initiator, denial, at) ->
                streamAudit.denied(aliases.hostName(), deviceId, moduleId, streamName, initiator, denial, at));
        mqttTopicHandlers.add(new TelemetryTopicHandler(telemetry));
        new DeviceMessagingRoutes(deviceAuthenticator, telemetry, cloudToDevice).register(router);
        mqttTopicHandlers.add(new C2dTopicHandler(cloudToDevice));
        mqttTopicHandlers.add(new StreamTopicHandler(streams));
        twins = new TwinService(new KeyValueTwinStore(store), registry, cloudToDevice::queuedMessages, clock,
                throttles);
        twinChangeEvents = new SegmentedEventLog(dataDir.resolve("twin-change-events"),
                SegmentedEventLog.Options.defaults().withPartitions(1).withFsync(config.eventLogFsync()));
        closeOnStop(twinChangeEvents);
        twins.addListener(new TwinChangeEventLog(twinChangeEvents, aliases.hostName()));
        // the query index is built from the stored twins before any route can change one
        QueryService queries = new QueryService(twins, registry);
        new TwinRoutes(twins).register(router);
        mqttTopicHandlers.add(new TwinTopicHandler(twins, requestExecutor));
        new QueryRoutes(queries).register(router);
        DirectMethodService methods = new DirectMethodService(registry, connections, scheduler, requestExecutor);
        new MethodRoutes(methods).register(router);
        mqttTopicHandlers.add(new MethodTopicHandler(methods));
        PersistentSessions sessions = new PersistentSessions(new KeyValueSessionStore(store), registry, clock,
                config.sessionExpiry());
        sessions.expire();
        closeOnStop(new SessionExpiry(sessions, scheduler, Duration.ofHours(1)));
        // one deadline and one per-address count of unauthenticated connections for MQTT and AMQP, TLS and WebSocket
        AuthenticationGuard guard = new AuthenticationGuard(config.authenticationTimeout(),
                config.maxUnauthenticatedPerAddress());
        DeviceAuthenticator connects = new ThrottledConnects(deviceAuthenticator, throttles);
        MqttDeviceEndpoint mqtt = new MqttDeviceEndpoint(connects, connections, sessions,
                mqttTopicHandlers, requestExecutor, MqttSettings.DEFAULTS, guard);
        mqttPort = bindListener("mqtt", config.mqttPort(), new TlsListenerInitializer(sslContext,
                pipeline -> mqtt.addMqttHandlers(pipeline, "mqtt")));
        AmqpEndpoint amqp = new AmqpEndpoint(connects, serviceAuthenticator, aliases, connections,
                telemetry, cloudToDevice, requestExecutor, AmqpLimits.DEFAULTS, guard);
        amqp.serveEventHubs(new EventHubsEndpoint(eventHubName(), createdAt(dataDir.resolve("events")), eventStream,
                serviceAuthenticator));
        amqp.serveDeviceChannels(new AmqpEndpoint.DeviceServices(twins, methods, streams));
        amqp.followServiceGrants(serviceGrants);
        amqpPort = bindListener("amqp", config.amqpPort(), new TlsListenerInitializer(sslContext,
                pipeline -> amqp.addAmqpHandlers(pipeline, "amqp")));
        // before MQTT's: both serve /$iothub/websocket, told apart by the offered sub-protocol
        addWebSocketEndpoint(new AmqpWebSocketEndpoint(amqp));
        addWebSocketEndpoint(new MqttWebSocketEndpoint(mqtt));

        log.info("hub {} started: https {}, mqtt {}, amqp {}, CA {}", aliases.hostName(), httpsPort, mqttPort, amqpPort,
                caCertificate == null ? "(operator's certificate)" : caCertificate);
    }

    /**
     * Sets up the throttles, the daily quota (its count saved in the store every few seconds and on stop) and the
     * failed-authentication monitor, which device authentication then reports to.
     */
    private void applyTrafficLimits() {
        throttles = new Throttles(limits.throttling());
        metrics.sampled("ferryhub_throttled_operations_total", "Operations refused with 429001 by class", "counter",
                "class", throttles::refusedByClass);
        dailyQuota = new DailyMessageQuota(limits.dailyMessages(), Clock.systemUTC(), store);
        scheduler.scheduleWithFixedDelay(dailyQuota::save, 5, 5, TimeUnit.SECONDS);
        closeOnStop(() -> dailyQuota.save().join());
        metrics.sampled("ferryhub_daily_messages_used", "Messages counted against today's quota (UTC)", "gauge",
                dailyQuota::used);
        if (limits.lockout() == null) {
            return;
        }
        failedAuthentications = new FailedAuthentications(limits.lockout());
        failedAuthentications.onDeviceOverThreshold(registry::disableDevice);
        deviceAuthenticator = new MonitoredDeviceAuthenticator(deviceAuthenticator, failedAuthentications);
        metrics.sampled("ferryhub_failed_device_authentications_total", "Failed device authentications", "counter",
                failedAuthentications::failureCount);
        metrics.sampled("ferryhub_blocked_addresses", "Addresses blocked for failed authentications now", "gauge",
                failedAuthentications::blockedNow);
        metrics.sampled("ferryhub_blocked_connections_total", "Connections closed at accept from blocked addresses",
                "counter", failedAuthentications::refusedAtAcceptCount);
    }

    private void prepareTls(Path dataDir) {
        try {
            if (config.tlsCertificate() != null) {
                sslContext = ServerTls.serverContext(config.tlsCertificate(), config.tlsKey());
                caCertificate = null;
            } else {
                HubPki.CertificateFiles files = HubPki.ensure(dataDir, aliases.all());
                sslContext = ServerTls.serverContext(files.serverChain(), files.serverKey());
                caCertificate = files.caCertificate();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Binds a TLS listener of a feature (e.g. MQTT on 8883) on the hub's event loops; it is closed with the hub.
     * The {@link AddressGate} (IP filter) comes first in every connection's pipeline, before TLS.
     *
     * @return the bound port (the ephemeral one when {@code port} is 0)
     * @throws HubStartException with the one-line fix when the port is privileged or taken
     */
    public int bindListener(String name, int port, ChannelInitializer<SocketChannel> initializer)
            throws HubStartException {
        return bind(name, config.bindAddress(), port, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                addressGate.addTo(channel.pipeline());
                channel.pipeline().addLast(initializer);
            }
        });
    }

    /**
     * Serves the hub's metrics (Prometheus text format) at {@code GET /metrics} in plain HTTP on a port of its own,
     * bound to {@code address} (e.g. 127.0.0.1): opt-in, and apart from the ports devices and back-ends use, since
     * Prometheus scrapes without credentials that expire. Returns the bound port.
     */
    public int serveMetrics(String address, int port) throws HubStartException {
        return bind("metrics", address, port, new MetricsEndpoint(metrics));
    }

    /**
     * Which streams the embedded gateway records into {@code data/recordings}: all of them, or (the default) those
     * whose identity's stream policy says {@code "record": true}; with the retention applied as each one ends.
     */
    public void recordStreams(boolean all, Duration maxAge, long maxBytes) {
        // file names and retention go by the files' own (real) time, whatever clock stream policies run on
        StreamRecordings recordings = new StreamRecordings(dataDir().resolve(RECORDINGS_DIR), all, maxAge, maxBytes,
                Clock.systemUTC());
        closeOnStop(recordings);
        streamGateway.recordings(recordings);
    }

    /** The hub's metrics: streams, tunnel channels, connections, telemetry. */
    public Metrics metrics() {
        return metrics;
    }

    private int bind(String name, String address, int port, ChannelInitializer<SocketChannel> initializer)
            throws HubStartException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer);
        try {
            // no address: the JDK's wildcard, which on a dual-stack machine takes IPv4 and IPv6 connections
            Channel channel = (address == null ? bootstrap.bind(port) : bootstrap.bind(address, port)).sync()
                    .channel();
            int bound = ((InetSocketAddress) channel.localAddress()).getPort();
            synchronized (listeners) {
                listeners.add(channel);
                boundPorts.put(name, bound);
            }
            return bound;
        } catch (Exception e) {
            throw bindFailure(name, port, e);
        }
    }

    private HubStartException bindFailure(String name, int port, Exception e) {
        String reason = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (port > 0 && port < 1024 && (reason.contains("permission denied") || reason.contains("access denied"))) {
            return new HubStartException("cannot bind the " + name + " port " + port + ": ports below 1024 need "
                    + "privileges. Run as root, or grant them once with 'sudo setcap cap_net_bind_service=+ep "
                    + "$(readlink -f $(which java))', or pass other ports (e.g. --https-port 8443 --mqtt-port 18883; "
                    + "the official SDKs hard-code 443/8883/5671 and then need a port forward)", e);
        }
        if (e instanceof SocketException || reason.contains("in use")) {
            return new HubStartException("cannot bind the " + name + " port " + port + " on "
                    + (config.bindAddress() == null ? "every interface" : config.bindAddress())
                    + ": " + e.getMessage() + " (another process holds it? pass another port)", e);
        }
        return new HubStartException("cannot bind the " + name + " port " + port + ": " + e, e);
    }

    private static Set<String> aliasesOf(HubConfig config) {
        Set<String> names = new LinkedHashSet<>();
        names.add("localhost");
        names.add("127.0.0.1");
        names.add("::1");
        try {
            String machine = InetAddress.getLocalHost().getHostName();
            if (machine != null && !machine.isBlank()) {
                names.add(machine.toLowerCase(Locale.ROOT));
            }
        } catch (UnknownHostException e) {
            log.debug("the machine's name is not resolvable; not among the hub's names: {}", e.getMessage());
        }
        names.addAll(config.extraAliases());
        names.remove(config.hostName().toLowerCase(Locale.ROOT));
        return names;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            return Threads.daemon(r, prefix + "-" + n.incrementAndGet());
        };
    }

    // ---- what the hub offers its features and its operator

    public HubConfig config() {
        return config;
    }

    public String hostName() {
        return aliases.hostName();
    }

    public HostAliases hostAliases() {
        return aliases;
    }

    public int httpsPort() {
        return httpsPort;
    }

    /** Every listener's bound port by name ({@code https}, {@code mqtt}...), in the order they were bound. */
    public Map<String, Integer> boundPorts() {
        synchronized (listeners) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(boundPorts));
        }
    }

    public int mqttPort() {
        return mqttPort;
    }

    /** The bound AMQPS port (5671 by default). */
    public int amqpPort() {
        return amqpPort;
    }

    /** The MQTT topic handler table: features add their handlers (streams, later twin and methods). */
    public MqttTopicHandlers mqttTopicHandlers() {
        return mqttTopicHandlers;
    }

    /** The built-in event stream's read side (consumer groups, readers). */
    public EventStreamService eventStream() {
        return eventStream;
    }

    public TwinService twins() {
        return twins;
    }

    /** Twin changes in IoT Hub's twinChangeEvents shape, kept for routing. */
    public EventLog twinChangeEvents() {
        return twinChangeEvents;
    }

    public CloudToDeviceService cloudToDevice() {
        return cloudToDevice;
    }

    /** The CA certificate clients must trust, or null when the operator supplied the hub's certificate. */
    public Path caCertificatePath() {
        return caCertificate;
    }

    /** The server TLS context: every listener of the hub uses it (client certificates optional, see ServerTls). */
    public SslContext serverSslContext() {
        return sslContext;
    }

    public RestRoutes restRoutes() {
        return router;
    }

    public void addWebSocketEndpoint(WebSocketEndpoint endpoint) {
        webSocketEndpoints.add(endpoint);
    }

    /** Device streams: device transports hand stream answers to it. */
    /** The embedded streaming gateway (e.g. to cap its bandwidth). */
    public StreamGateway streamGateway() {
        return streamGateway;
    }

    public StreamService streams() {
        return streams;
    }

    public DeviceConnections deviceConnections() {
        return connections;
    }

    /** The hub's operation throttles (off unless started with {@link TrafficLimits}). */
    public Throttles throttles() {
        return throttles;
    }

    /** Today's message count (device-to-cloud and cloud-to-device) against the daily quota. */
    public DailyMessageQuota dailyQuota() {
        return dailyQuota;
    }

    /** Failed device authentications and blocked addresses, or null when the hub has no lock-out. */
    public FailedAuthentications failedAuthentications() {
        return failedAuthentications;
    }

    public DeviceAuthenticator deviceAuthenticator() {
        return deviceAuthenticator;
    }

    public ServiceAuthenticator serviceAuthenticator() {
        return serviceAuthenticator;
    }

    public RegistryService registry() {
        return registry;
    }

    /** The IP filter: which addresses may connect to the hub's listeners (and to stand-alone gateways). */
    public IpFilterService ipFilter() {
        return ipFilter;
    }

    public SharedAccessPolicies policies() {
        return policies;
    }

    /** The CAs registered for X.509 devices. */
    public CertificateAuthorities certificateAuthorities() {
        return certificateAuthorities;
    }

    /** The hub's shared timer (timeouts, retention); tasks must be short. */
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** The hub's I/O event loops, for features' listeners and clients. */
    public EventLoopGroup workerGroup() {
        return workerGroup;
    }

    /** The executor REST handlers run on; features may use it for short blocking work. */
    public java.util.concurrent.Executor requestExecutor() {
        return requestExecutor;
    }

    public Path dataDir() {
        return config.dataDir().toAbsolutePath();
    }

    /** True on the first start on this data directory: the policies and their keys were just created. */
    public boolean isFirstStart() {
        return policies != null && policies.createdNow();
    }

    /** The built-in endpoint's event hub name, as Event Hubs clients' {@code EntityPath}. */
    public String eventHubName() {
        return EventHubsConnectionString.eventHubName(aliases.hostName());
    }

    /** The built-in endpoint's Event Hubs connection string, with iothubowner's key. */
    public String eventHubsConnectionString() {
        SharedAccessPolicy owner = policies.find(SharedAccessPolicies.IOTHUBOWNER).orElseThrow();
        return EventHubsConnectionString.of(aliases.hostName(), owner.keyName(), owner.primaryKey());
    }

    private static Instant createdAt(Path dir) throws IOException {
        return Files.readAttributes(dir, BasicFileAttributes.class).creationTime().toInstant();
    }

    /**
     * iothubowner's keys changed: the connection-string files a local CLI and Event Hubs clients read follow its
     * primary key (a deleted iothubowner leaves them as they were: their key no longer holds).
     */
    private void ownerKeysChanged(String policyName, Path dataDir) {
        if (!SharedAccessPolicies.IOTHUBOWNER.equals(policyName)
                || policies.find(SharedAccessPolicies.IOTHUBOWNER).isEmpty()) {
            return;
        }
        try {
            HubPki.writeSecret(dataDir.resolve(OWNER_CONNECTION_STRING_FILE), ownerConnectionString() + "\n");
            HubPki.writeSecret(dataDir.resolve(EVENT_HUBS_CONNECTION_STRING_FILE), eventHubsConnectionString() + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite iothubowner's connection-string files", e);
        }
    }

    public String ownerConnectionString() {
        SharedAccessPolicy owner = policies.find(SharedAccessPolicies.IOTHUBOWNER).orElseThrow();
        return ConnectionString.forPolicy(aliases.hostName(), owner.keyName(), owner.primaryKey()).toString();
    }

    /** Closes something of a feature (its own listener state, a store) when the hub stops, before storage. */
    public void closeOnStop(AutoCloseable closeable) {
        synchronized (closeables) {
            closeables.add(closeable);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (listeners) {
            listeners.forEach(Channel::close);
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        synchronized (closeables) {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                try {
                    closeables.get(i).close();
                } catch (Exception e) {
                    log.warn("closing {} failed: {}", closeables.get(i), e.toString());
                }
            }
        }
        if (requestExecutor != null) {
            requestExecutor.shutdown();
            try {
                requestExecutor.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (store != null) {
            store.close();
        }
        log.info("hub {} stopped", aliases.hostName());
    }
}
