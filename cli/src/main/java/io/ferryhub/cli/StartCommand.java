package io.ferryhub.cli;

import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.gateway.BandwidthCaps;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.HubStartException;
import io.ferryhub.hub.server.TrafficLimits;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** {@code iothub start}: runs the hub in the foreground until interrupted (Ctrl-C, SIGTERM). */
final class StartCommand {
    static final String USAGE = """
            iothub start [--data-dir DIR] [--host-name NAME] [--alias NAME]... [--bind ADDRESS]
                         [--https-port N] [--mqtt-port N] [--amqp-port N] [--tls-cert PEM --tls-key PEM]
                         [--max-streams-per-device N] [--max-streams N]   (defaults 100 and 10000)
                         [--stream-gateway-url wss://HOST:PORT]   (a stand-alone streaming gateway)
                         [--stream-handshake-timeout SECONDS] [--stream-idle-timeout SECONDS]   (60, 1800; 0 = never)
                         [--stream-bandwidth B/S] [--device-stream-bandwidth B/S] [--hub-stream-bandwidth B/S]
                                        (bytes per second and direction: each stream, a device's, all; 0 = no cap)
                         [--metrics-port N [--metrics-bind ADDRESS]]   (Prometheus text at http://ADDRESS:N/metrics;
                                        off by default, ADDRESS 127.0.0.1 unless given)
                         [--record-streams] [--recording-max-age-days N] [--recording-max-mb N]
                                        (record every stream to DIR/recordings; by default only those whose
                                        stream policy says "record": true; retention 30 days and 1024 MB)
                         [--session-expiry-days N]   (MQTT persistent sessions no connection used for N days
                                        are removed; 30)
                         [--auth-timeout SECONDS]   (MQTT and AMQP connections not authenticated by then are
                                        closed; 30)
                         [--max-unauthenticated-per-address N]   (connections one address may have not yet
                                        authenticated over the MQTT and AMQP listeners; 64)
                         [--no-fsync]   (benchmarks only: telemetry acknowledged before it is on disk)
            """ + TrafficLimitOptions.USAGE;
    private static final Set<String> VALUED = Set.of("data-dir", "host-name", "alias", "bind", "https-port",
            "mqtt-port", "amqp-port", "tls-cert", "tls-key", "max-streams-per-device", "max-streams",
            "stream-gateway-url", "stream-handshake-timeout", "stream-idle-timeout", "stream-bandwidth",
            "device-stream-bandwidth", "hub-stream-bandwidth", "metrics-port", "metrics-bind",
            "recording-max-age-days", "recording-max-mb", "session-expiry-days", "auth-timeout",
            "max-unauthenticated-per-address");

    private StartCommand() {
    }

    static void run(List<String> argv, Output out) {
        Args args = Args.parse(argv, Args.union(VALUED, TrafficLimitOptions.VALUED),
                Args.union(Set.of("no-fsync", "record-streams"), TrafficLimitOptions.SWITCHES));
        args.expectPositionals(0);
        HubConfig defaults = HubConfig.defaults();
        HubConfig config;
        try {
            config = defaults
                    .withDataDir(Path.of(args.option("data-dir") == null ? "data" : args.option("data-dir")))
                    .withHostName(args.option("host-name") == null ? defaults.hostName() : args.option("host-name"))
                    .withExtraAliases(args.options("alias"))
                    .withBindAddress(args.option("bind") == null ? defaults.bindAddress() : args.option("bind"))
                    .withPorts(args.intOption("https-port", defaults.httpsPort()),
                            args.intOption("mqtt-port", defaults.mqttPort()),
                            args.intOption("amqp-port", defaults.amqpPort()))
                    .withEventLogFsync(!args.flag("no-fsync"))
                    .withStreamLimits(args.intOption("max-streams-per-device", defaults.maxStreamsPerDevice()),
                            args.intOption("max-streams", defaults.maxStreams()))
                    .withStreamGatewayUrl(args.option("stream-gateway-url"))
                    .withStreamTimeouts(
                            Duration.ofSeconds(args.intOption("stream-handshake-timeout",
                                    (int) defaults.streamHandshakeTimeout().toSeconds())),
                            Duration.ofSeconds(args.intOption("stream-idle-timeout",
                                    (int) defaults.streamIdleTimeout().toSeconds())))
                    .withSessionExpiry(Duration.ofDays(args.intOption("session-expiry-days",
                            (int) defaults.sessionExpiry().toDays())))
                    .withAuthenticationTimeout(Duration.ofSeconds(args.intOption("auth-timeout",
                            (int) defaults.authenticationTimeout().toSeconds())))
                    .withMaxUnauthenticatedPerAddress(args.intOption("max-unauthenticated-per-address",
                            defaults.maxUnauthenticatedPerAddress()));
            if (args.option("tls-cert") != null || args.option("tls-key") != null) {
                config = config.withTls(pathOrNull(args.option("tls-cert")), pathOrNull(args.option("tls-key")));
            }
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
        int perStream = args.intOption("stream-bandwidth", 0);
        int perDevice = args.intOption("device-stream-bandwidth", 0);
        int perHub = args.intOption("hub-stream-bandwidth", 0);
        if (perStream < 0 || perDevice < 0 || perHub < 0) {
            throw CliException.usage("bandwidth caps cannot be negative");
        }
        TrafficLimits limits = TrafficLimitOptions.parse(args);
        HubServer hub;
        try {
            hub = HubServer.start(config, Clock.systemUTC(), limits);
        } catch (HubStartException e) {
            throw new CliException(e.getMessage());
        }
        int maxAgeDays = args.intOption("recording-max-age-days", 30);
        int maxMegabytes = args.intOption("recording-max-mb", 1024);
        if (maxAgeDays < 1 || maxMegabytes < 1) {
            hub.close();
            throw CliException.usage("recording retention must be at least 1 day and 1 MB");
        }
        hub.recordStreams(args.flag("record-streams"), Duration.ofDays(maxAgeDays), maxMegabytes * 1024L * 1024);
        if (args.option("metrics-port") != null) {
            try {
                hub.serveMetrics(args.option("metrics-bind") == null ? "127.0.0.1" : args.option("metrics-bind"),
                        args.intOption("metrics-port", 0));
            } catch (HubStartException e) {
                hub.close();
                throw new CliException(e.getMessage());
            }
        }
        if (perStream > 0 || perDevice > 0 || perHub > 0) {
            hub.streamGateway().bandwidthCaps(new BandwidthCaps(perStream, perDevice, perHub, hub.scheduler()));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            hub.close();
            stopped.countDown();
        }, "hub-shutdown"));
        String url = "https://" + urlHost(hub.hostName()) + ":" + hub.httpsPort();
        try {
            OwnerOnlyFiles.write(hub.dataDir().resolve(HubApi.URL_FILE),
                    (url + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new CliException("cannot write " + hub.dataDir().resolve(HubApi.URL_FILE) + ": " + e.getMessage());
        }
        printBanner(hub, url, out);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Path pathOrNull(String value) {
        return value == null ? null : Path.of(value);
    }

    private static String urlHost(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static void printBanner(HubServer hub, String url, Output out) {
        out.line("FerryHub is running (Ctrl-C stops it).");
        out.line("  host name       " + hub.hostName() + "   (also answers to "
                + String.join(", ", hub.hostAliases().all().stream().skip(1).toList()) + ")");
        for (Map.Entry<String, Integer> listener : hub.boundPorts().entrySet()) {
            out.line("  " + String.format("%-15s", listener.getKey() + " port") + " " + listener.getValue()
                    + (listener.getKey().equals("https") ? "   REST API at " + url : ""));
        }
        Path ca = hub.caCertificatePath();
        out.line("  CA certificate  " + (ca == null ? "(your own certificate, from --tls-cert)" : ca
                + "   (clients must trust it)"));
        Path owner = hub.dataDir().resolve(HubServer.OWNER_CONNECTION_STRING_FILE);
        out.line("  owner secret    " + owner + "   (iothubowner connection string, readable by you only)");
        Path eventHubs = hub.dataDir().resolve(HubServer.EVENT_HUBS_CONNECTION_STRING_FILE);
        out.line("  event hub       " + hub.eventHubName() + " on the amqp port   (built-in endpoint; Event Hubs "
                + "connection string in " + eventHubs + ")");
        out.line("  data directory  " + hub.dataDir());
        out.line("  limits          " + TrafficLimitOptions.describe(hub));
        if (hub.isFirstStart()) {
            out.line("");
            out.line("First start: the iothubowner connection string (shown this once; it stays in the file above):");
            out.line("  " + hub.ownerConnectionString());
            out.line("and the built-in endpoint's Event Hub-compatible connection string (for Event Hubs clients):");
            out.line("  " + hub.eventHubsConnectionString());
        }
        out.line("");
        out.line("Next: scripts/iothub device create mydevice   then   "
                + "scripts/iothub device connection-string mydevice");
    }
}
