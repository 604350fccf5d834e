package io.ferryhub.serviceproxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.cli.LogSettings;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.common.tls.ClientTls;
import io.netty.handler.ssl.SslContext;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

import static io.ferryhub.common.cli.OptionValues.address;
import static io.ferryhub.common.cli.OptionValues.count;
import static io.ferryhub.common.cli.OptionValues.port;
import static io.ferryhub.common.cli.OptionValues.seconds;
import static io.ferryhub.common.cli.OptionValues.value;

/** {@code service-proxy}: the command line. */
public final class ServiceProxyMain {
    private static final String USAGE = """
            usage: service-proxy [--connection-string STRING] [--ca FILE] [--hub-port PORT]
                                 --device ID [--module ID] [--stream NAME] [--listen [HOST:]PORT]
                                 [--connect-timeout SECONDS] [--response-timeout SECONDS]
                                 [--no-tunnel] [--tunnel-grace SECONDS] [--tunnel-max-window KIB]
                                 [--echo [--pings N] [--bytes N]]
              --connection-string  a service connection string with ServiceConnect
                                   (default: $FERRYHUB_SERVICE_CONNECTION_STRING)
              --ca                 PEM file of the CA that issued the hub's certificate (default: system trust)
              --hub-port           the hub's HTTPS port (default 443)
              --device, --module   the device (and module) to reach
              --stream             the stream name the device proxy maps to a target (default ssh)
              --listen             local address for clients (default 127.0.0.1:2222)
              --no-tunnel          one device stream per connection, as with IoT Hub; by default connections
                                   share one multiplexed, resumable tunnel session (ferryhub.tunnel.v1) when the
                                   device proxy and the gateway speak it, and fall back to this otherwise
              --tunnel-grace       how long a tunnel session waits for its dropped link to come back (default 30)
              --tunnel-max-window  how far a tunnel channel's window for the bytes this side receives may grow
                                   while it holds a lone bulk transfer back, in KiB (default 4096; 256: fixed)
              --connect-timeout    how long the hub waits for the device to be online (default 0)
              --response-timeout   how long the hub waits for the device to answer (default 30, at most 60)
              --echo               measure a stream to the device's echo target and print JSON:
                                   the first echo's time (stream set-up included), the round-trip latency
                                   of --pings 64-byte messages after it (default 100), then throughput of
                                   --bytes echoed bytes (default 10000000)
            """;

    private ServiceProxyMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        // Before the first logger exists. The probe prints its result, and a failure as one line of its own; the
        // proxy logs its connections, not which TLS engine it loaded.
        LogSettings.timestamped();
        if (Arrays.asList(args).contains("--echo")) {
            LogSettings.silent();
        }
        LogSettings.warnOnly("io.ferryhub.common.tls.TlsEngine");
        Threads.logUncaughtByDefault();
        String connectionString = System.getenv("FERRYHUB_SERVICE_CONNECTION_STRING");
        Path ca = null;
        int hubPort = 443;
        String device = null;
        String module = null;
        String stream = null;
        InetSocketAddress listen = null;
        Duration connectTimeout = Duration.ZERO;
        Duration responseTimeout = Duration.ofSeconds(30);
        boolean echo = false;
        ServiceProxy.Mode mode = ServiceProxy.Mode.TUNNEL;
        TunnelConfig tunnel = TunnelConfig.defaults();
        int pings = 100;
        long bytes = 10_000_000;
        ConnectionString service;
        SslContext tls;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--connection-string" -> connectionString = value(args, ++i);
                    case "--ca" -> ca = Path.of(value(args, ++i));
                    case "--hub-port" -> hubPort = port(value(args, ++i));
                    case "--device" -> device = value(args, ++i);
                    case "--module" -> module = value(args, ++i);
                    case "--stream" -> stream = value(args, ++i);
                    case "--listen" -> listen = address(value(args, ++i), InetAddress.getLoopbackAddress().getHostAddress());
                    case "--connect-timeout" -> connectTimeout = seconds(args[i], value(args, ++i));
                    case "--response-timeout" -> responseTimeout = seconds(args[i], value(args, ++i));
                    case "--echo" -> echo = true;
                    case "--no-tunnel" -> mode = ServiceProxy.Mode.STREAM_PER_CONNECTION;
                    case "--tunnel-grace" -> tunnel = tunnel.withGrace(seconds(args[i], value(args, ++i)));
                    case "--tunnel-max-window" ->
                            tunnel = tunnel.withMaxChannelWindowKib(count(args[i], value(args, ++i)));
                    case "--pings" -> pings = (int) count(args[i], value(args, ++i));
                    case "--bytes" -> bytes = count(args[i], value(args, ++i));
                    case "-h", "--help" -> {
                        System.out.print(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
            if (connectionString == null) {
                throw new IllegalArgumentException("no service connection string (--connection-string or "
                        + "$FERRYHUB_SERVICE_CONNECTION_STRING)");
            }
            if (device == null) {
                throw new IllegalArgumentException("--device is required");
            }
            service = ConnectionString.parse(connectionString);
            tls = ClientTls.trusting(ca);
        } catch (IllegalArgumentException e) {
            System.err.println("service-proxy: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (stream == null) {
            stream = echo ? "echo" : "ssh";
        }
        if (listen == null) {
            listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), echo ? 0 : 2222);
        }
        URI hub = URI.create("https://" + service.hostName() + ":" + hubPort);
        ServiceProxy.Target target = new ServiceProxy.Target(device, module, stream, connectTimeout,
                responseTimeout);
        ServiceProxy proxy;
        try {
            proxy = new ServiceProxy(service, hub, tls, target, listen, mode, tunnel);
        } catch (ServiceProxy.CannotListen e) {
            System.err.println("service-proxy: " + e.getMessage() + "; stop what listens there or choose another "
                    + "address with --listen [HOST:]PORT");
            System.exit(1);
            return;
        }
        if (echo) {
            int status = 0;
            try {
                ObjectNode result = EchoProbe.run(proxy.localAddress(), pings, bytes);
                result.put("device", device).put("stream", stream);
                System.out.println(Json.toString(result));
                status = result.path("intact").asBoolean(true) ? 0 : 1;
            } catch (IOException e) {
                // the probe only saw its connection closed: the proxy knows why
                String why = e instanceof EchoProbe.Closed && proxy.lastFailure() != null ? proxy.lastFailure()
                        : e.getMessage();
                System.err.println("service-proxy: echo failed: " + why);
                status = 1;
            } finally {
                proxy.close();
            }
            System.exit(status);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stopped.countDown();
        }, "service-proxy-shutdown"));
        stopped.await();
    }

}
