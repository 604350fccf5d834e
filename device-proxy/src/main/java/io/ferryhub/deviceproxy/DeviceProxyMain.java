package io.ferryhub.deviceproxy;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.cli.LogSettings;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.common.tls.ClientTls;
import io.netty.handler.ssl.SslContext;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static io.ferryhub.common.cli.OptionValues.count;
import static io.ferryhub.common.cli.OptionValues.port;
import static io.ferryhub.common.cli.OptionValues.seconds;
import static io.ferryhub.common.cli.OptionValues.value;

/** {@code device-proxy}: the command line. */
public final class DeviceProxyMain {
    private static final String USAGE = """
            usage: device-proxy [--connection-string STRING] [--ca FILE] [--transport auto|mqtt|mqtt-ws]
                                [--mqtt-port PORT] [--https-port PORT] [--auto-fallback-after SECONDS]
                                [--cert FILE --key FILE] [--proxy URL] --map NAME=HOST:PORT [--map ...]
                                [--echo] [--tunnel-grace SECONDS] [--tunnel-max-window KIB]
              --connection-string  the device's connection string (default: $FERRYHUB_DEVICE_CONNECTION_STRING)
              --cert, --key        for an x509=true connection string: the device's certificate chain and
                                   PKCS#8 private key (PEM)
              --ca                 PEM file of the CA that issued the hub's certificate (default: system trust)
              --transport          how the device's MQTT connection reaches the hub: mqtt (TLS on the MQTT
                                   port), mqtt-ws (WebSockets on the HTTPS port, for networks that only let 443
                                   out), or auto (default: mqtt, switching to the other whenever a connection
                                   cannot be made, and keeping the one that worked; the MQTT port is tried
                                   again on a reconnect 10 minutes after falling back)
              --auto-fallback-after  with auto: how long reaching the MQTT port may take before the HTTPS port is
                                   tried instead (default 3, rather than the 10 s connect timeout, for firewalls
                                   that silently drop packets to 8883)
              --mqtt-port          the hub's MQTT port (default 8883)
              --https-port         the hub's HTTPS port, for mqtt-ws (default 443)
              --proxy              reach the hub through this HTTP proxy (CONNECT), e.g.
                                   http://user:password@proxy.example:3128 (default: $FERRYHUB_HTTP_PROXY)
              --map                accept streams named NAME and connect them to HOST:PORT, e.g. ssh=localhost:22,
                                   or to a Unix domain socket: NAME=unix:PATH
              --echo               accept streams named 'echo' and send every byte back
              --tunnel-grace       how long a tunnel session waits for its dropped link to come back (default 30)
              --tunnel-max-window  how far a tunnel channel's window for the bytes this side receives may grow
                                   while it holds a lone bulk transfer back, in KiB (default 4096; 256: fixed)
            """;

    private DeviceProxyMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        LogSettings.timestamped(); // before the first logger
        Threads.logUncaughtByDefault();
        String connectionString = System.getenv("FERRYHUB_DEVICE_CONNECTION_STRING");
        Path ca = null;
        String proxyUrl = System.getenv("FERRYHUB_HTTP_PROXY");
        TunnelConfig tunnel = TunnelConfig.defaults();
        HttpConnectProxy proxy;
        Path cert = null;
        Path key = null;
        int mqttPort = HubEndpoint.DEFAULT_MQTT_PORT;
        int httpsPort = HubEndpoint.DEFAULT_HTTPS_PORT;
        MqttTransport transport = MqttTransport.AUTO;
        Duration autoFallbackAfter = HubEndpoint.DEFAULT_AUTO_FALLBACK_AFTER;
        Map<String, SocketAddress> targets = new LinkedHashMap<>();
        boolean echo = false;
        ConnectionString device;
        SslContext tls;
        SslContext mqttTls;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--connection-string" -> connectionString = value(args, ++i);
                    case "--ca" -> ca = Path.of(value(args, ++i));
                    case "--cert" -> cert = Path.of(value(args, ++i));
                    case "--key" -> key = Path.of(value(args, ++i));
                    case "--mqtt-port" -> mqttPort = remotePort(value(args, ++i));
                    case "--https-port" -> httpsPort = remotePort(value(args, ++i));
                    case "--transport" -> transport = MqttTransport.parse(value(args, ++i));
                    case "--auto-fallback-after" ->
                            autoFallbackAfter = positive(args[i], seconds(args[i], value(args, ++i)));
                    case "--map" -> {
                        String map = value(args, ++i);
                        int eq = map.indexOf('=');
                        if (eq > 0 && map.startsWith("unix:", eq + 1) && map.length() > eq + 6) {
                            targets.put(map.substring(0, eq), UnixDomainSocketAddress.of(map.substring(eq + 6)));
                            continue;
                        }
                        int colon = map.lastIndexOf(':');
                        if (eq <= 0 || colon < eq + 2) {
                            throw new IllegalArgumentException("--map wants NAME=HOST:PORT or NAME=unix:PATH, got '"
                                    + map + "'");
                        }
                        targets.put(map.substring(0, eq), InetSocketAddress.createUnresolved(
                                map.substring(eq + 1, colon), remotePort(map.substring(colon + 1))));
                    }
                    case "--echo" -> echo = true;
                    case "--proxy" -> proxyUrl = value(args, ++i);
                    case "--tunnel-grace" ->
                            tunnel = tunnel.withGrace(positive(args[i], seconds(args[i], value(args, ++i))));
                    case "--tunnel-max-window" ->
                            tunnel = tunnel.withMaxChannelWindowKib(count(args[i], value(args, ++i)));
                    case "-h", "--help" -> {
                        System.out.print(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
            if (connectionString == null) {
                throw new IllegalArgumentException("no device connection string (--connection-string or "
                        + "$FERRYHUB_DEVICE_CONNECTION_STRING)");
            }
            if (targets.isEmpty() && !echo) {
                throw new IllegalArgumentException("nothing to serve: give --map NAME=HOST:PORT and/or --echo");
            }
            device = ConnectionString.parse(connectionString);
            proxy = proxyUrl == null || proxyUrl.isEmpty() ? null : HttpConnectProxy.parse(proxyUrl);
            tls = ClientTls.trusting(ca);
            if (device.isX509() != (cert != null && key != null)) {
                throw new IllegalArgumentException(device.isX509()
                        ? "an x509=true connection string needs --cert and --key"
                        : "--cert and --key go with an x509=true connection string (and with each other)");
            }
            mqttTls = device.isX509() ? ClientTls.withClientCertificate(ca, cert, key) : tls;
        } catch (IllegalArgumentException e) {
            System.err.println("device-proxy: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        HubEndpoint endpoint = new HubEndpoint(device.hostName(), mqttPort, httpsPort, transport, mqttTls, proxy,
                autoFallbackAfter);
        DeviceProxy deviceProxy = new DeviceProxy(device, endpoint, targets, echo, tls, tunnel);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            deviceProxy.close();
            stopped.countDown();
        }, "device-proxy-shutdown"));
        deviceProxy.start();
        stopped.await();
    }

    private static Duration positive(String option, Duration duration) {
        if (duration.isZero()) {
            throw new IllegalArgumentException(option + " wants a positive number of seconds");
        }
        return duration;
    }

    /** A port to connect to: 0 names no service. */
    private static int remotePort(String text) {
        int port = port(text);
        if (port == 0) {
            throw new IllegalArgumentException("not a port number: '" + text + "'");
        }
        return port;
    }
}
