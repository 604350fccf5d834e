package io.ferryhub.hub.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * How a hub is started. The defaults are IoT Hub's ports (the official SDKs hard-code them); any port may be 0 for
 * an ephemeral one, which tests use.
 *
 * @param hostName       the name in connection strings and the certificate; must contain a dot for the Java device
 *                       SDK, so the default is {@code 127.0.0.1}
 * @param extraAliases   further names the hub answers to (besides localhost, 127.0.0.1, ::1 and the machine's name)
 * @param bindAddress    the address every listener binds; null for every interface, IPv4 and IPv6 (the default)
 * @param tlsCertificate the operator's PEM certificate chain, or null to use the hub's own CA
 * @param tlsKey         the operator's PEM private key (with {@code tlsCertificate})
 * @param maxBodyBytes   the largest REST request body accepted
 * @param requestThreads threads running REST handlers (they may wait on storage commits)
 * @param eventLogFsync  whether telemetry is fsynced before its PUBACK; off only for benchmarks that compare with
 *                       brokers acknowledging from memory, since acknowledged telemetry may then be lost on a crash
 * @param maxStreamsPerDevice concurrent device streams (waiting or relaying) per device or module
 * @param maxStreams          concurrent device streams on the embedded gateway in total
 * @param streamGatewayUrl    {@code wss://host:port} of a stand-alone streaming gateway that stream URLs point to
 *                            (it is given a copy of the data directory's stream token key), or null for the
 *                            gateway embedded on the HTTPS port
 * @param streamHandshakeTimeout how long the embedded gateway keeps one end of a stream waiting for the other
 * @param streamIdleTimeout   the embedded gateway closes streams that move no byte for this long; zero for never
 * @param sessionExpiry       how long a persistent session (MQTT {@code cleanSession=false}) that no connection
 *                            uses is kept
 * @param authenticationTimeout how long an MQTT or AMQP connection (TLS or WebSocket) may stay unauthenticated
 *                              before the hub closes it: MQTT until its CONNECT is accepted, AMQP until SASL PLAIN
 *                              succeeds or a first CBS token or X.509 identity is accepted
 * @param maxUnauthenticatedPerAddress MQTT and AMQP connections not yet authenticated that one remote address may
 *                                     hold at once, over all listeners; further ones are closed at once
 */
public record HubConfig(String hostName, List<String> extraAliases, Path dataDir, String bindAddress, int httpsPort,
                        int mqttPort, int amqpPort, Path tlsCertificate, Path tlsKey, int maxBodyBytes,
                        int requestThreads, boolean eventLogFsync, int maxStreamsPerDevice,
                        int maxStreams, String streamGatewayUrl, Duration streamHandshakeTimeout,
                        Duration streamIdleTimeout, Duration sessionExpiry, Duration authenticationTimeout,
                        int maxUnauthenticatedPerAddress) {
    public static final int DEFAULT_HTTPS_PORT = 443;
    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_AMQP_PORT = 5671;
    public static final Duration DEFAULT_SESSION_EXPIRY = Duration.ofDays(30);
    public static final Duration DEFAULT_AUTHENTICATION_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 64;

    /** What the SDKs accept in a connection string's HostName (the Java service SDK checks exactly this). */
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_.\\-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    public HubConfig {
        checkHostName(hostName, "host name");
        extraAliases = List.copyOf(extraAliases);
        extraAliases.forEach(alias -> checkHostName(alias, "alias"));
        checkPort(httpsPort, "https");
        checkPort(mqttPort, "mqtt");
        checkPort(amqpPort, "amqp");
        if (maxStreamsPerDevice < 1 || maxStreams < 1) {
            throw new IllegalArgumentException("stream limits must be at least 1");
        }
        if (streamHandshakeTimeout.isZero() || streamHandshakeTimeout.isNegative() || streamIdleTimeout.isNegative()) {
            throw new IllegalArgumentException("the stream handshake timeout must be positive and the idle timeout "
                    + "not negative");
        }
        if (streamGatewayUrl != null && !streamGatewayUrl.startsWith("wss://")) {
            throw new IllegalArgumentException("the stream gateway URL must be wss://host:port, not "
                    + streamGatewayUrl);
        }
        if (sessionExpiry.isZero() || sessionExpiry.isNegative()) {
            throw new IllegalArgumentException("the session expiry must be positive");
        }
        if (authenticationTimeout.isZero() || authenticationTimeout.isNegative() || maxUnauthenticatedPerAddress < 1) {
            throw new IllegalArgumentException("the authentication timeout must be positive and at least one "
                    + "unauthenticated connection per address allowed");
        }
        if ((tlsCertificate == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("a TLS certificate needs its key, and a key its certificate");
        }
    }

    private static void checkHostName(String name, String what) {
        if (name == null || !HOST_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("the " + what + " '" + name + "' is not a host name or IP address "
                    + "(letters, digits, '.', '-', '_'; no port)");
        }
    }

    private static void checkPort(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the " + name + " port must be between 0 and 65535, not " + port);
        }
    }

    public static HubConfig defaults() {
        return new HubConfig("127.0.0.1", List.of(), Path.of("data"), null, DEFAULT_HTTPS_PORT,
                DEFAULT_MQTT_PORT, DEFAULT_AMQP_PORT, null, null, 4 * 1024 * 1024, 64, true, 100, 10_000, null,
                Duration.ofSeconds(60), Duration.ofMinutes(30), DEFAULT_SESSION_EXPIRY, DEFAULT_AUTHENTICATION_TIMEOUT,
                DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS);
    }

    /** Loopback only, every port ephemeral: for tests of any module. */
    public static HubConfig ephemeral(Path dataDir) {
        return defaults().withDataDir(dataDir).withBindAddress("127.0.0.1").withPorts(0, 0, 0);
    }

    public HubConfig withHostName(String name) {
        return new HubConfig(name, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort, tlsCertificate,
                tlsKey, maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withExtraAliases(List<String> aliases) {
        return new HubConfig(hostName, aliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort, tlsCertificate,
                tlsKey, maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withDataDir(Path dir) {
        return new HubConfig(hostName, extraAliases, dir, bindAddress, httpsPort, mqttPort, amqpPort, tlsCertificate,
                tlsKey, maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withBindAddress(String address) {
        return new HubConfig(hostName, extraAliases, dataDir, address, httpsPort, mqttPort, amqpPort, tlsCertificate,
                tlsKey, maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withPorts(int https, int mqtt, int amqp) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, https, mqtt, amqp, tlsCertificate, tlsKey,
                maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withTls(Path certificateChain, Path key) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                certificateChain, key, maxBodyBytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withMaxBodyBytes(int bytes) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, bytes, requestThreads, eventLogFsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withEventLogFsync(boolean fsync) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, fsync,
                maxStreamsPerDevice, maxStreams, streamGatewayUrl,
                streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withStreamLimits(int perDevice, int total) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, perDevice, total,
                streamGatewayUrl, streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withStreamGatewayUrl(String url) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, maxStreamsPerDevice, maxStreams,
                url, streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withStreamTimeouts(Duration handshake, Duration idle) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, maxStreamsPerDevice, maxStreams,
                streamGatewayUrl, handshake, idle, sessionExpiry, authenticationTimeout, maxUnauthenticatedPerAddress);
    }

    public HubConfig withSessionExpiry(Duration expiry) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, maxStreamsPerDevice, maxStreams,
                streamGatewayUrl, streamHandshakeTimeout, streamIdleTimeout, expiry, authenticationTimeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withAuthenticationTimeout(Duration timeout) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, maxStreamsPerDevice, maxStreams,
                streamGatewayUrl, streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, timeout,
                maxUnauthenticatedPerAddress);
    }

    public HubConfig withMaxUnauthenticatedPerAddress(int connections) {
        return new HubConfig(hostName, extraAliases, dataDir, bindAddress, httpsPort, mqttPort, amqpPort,
                tlsCertificate, tlsKey, maxBodyBytes, requestThreads, eventLogFsync, maxStreamsPerDevice, maxStreams,
                streamGatewayUrl, streamHandshakeTimeout, streamIdleTimeout, sessionExpiry, authenticationTimeout,
                connections);
    }
}
