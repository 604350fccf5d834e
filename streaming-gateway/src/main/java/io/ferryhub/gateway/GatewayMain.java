package io.ferryhub.gateway;

import io.ferryhub.common.cli.LogSettings;
import io.ferryhub.common.files.OwnerOnlyFiles;
import io.ferryhub.common.files.OwnerOnlyTree;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.common.tls.TlsEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static io.ferryhub.common.cli.OptionValues.address;
import static io.ferryhub.common.cli.OptionValues.count;
import static io.ferryhub.common.cli.OptionValues.seconds;
import static io.ferryhub.common.cli.OptionValues.value;

/** {@code streaming-gateway}: the stand-alone streaming gateway's command line. */
public final class GatewayMain {
    private static final String USAGE = """
            usage: streaming-gateway --tls-cert CHAIN.pem --tls-key KEY.pem --token-key-file FILE [--state-dir DIR]
                                     [--listen [HOST:]PORT] [--handshake-timeout SECONDS] [--idle-timeout SECONDS]
                                     [--max-streams-per-device N] [--max-streams N] [--metrics [HOST:]PORT]
                                     [--record-dir DIR [--record-all] [--recording-max-age-days N]
                                      [--recording-max-mb N]] [--hub-url https://HOST:PORT [--hub-ca CA.pem]]
              --tls-cert, --tls-key  the gateway's certificate chain and key (PEM); clients verify its name
              --token-key-file       a copy of the hub's stream-token.key (in the hub's data directory)
              --state-dir            where the ids of used stream tokens are kept, so that a token works once
                                     even across restarts (default: the directory of --token-key-file; owner-only)
              --listen               where to accept stream connections (default 0.0.0.0:443)
              --handshake-timeout    how long one end waits for the other (default 60)
              --idle-timeout         close streams idle this long (default 1800; 0 = never)
              --max-streams-per-device, --max-streams   concurrent stream limits (default 100 and 10000)
              --record-dir           record streams there: those whose stream policy says "record": true, or
                                     every stream with --record-all (retention 30 days and 1024 MB by default)
              --hub-url              follow the hub's revocation feed there, so disabling, deleting or re-keying
                                     a device, or changing its stream policy, reaches its open streams here
                                     (without it, only new streams are affected), and the hub's IP filter
                                     applies here too
              --hub-ca               the CA that signed the hub's certificate (ca.pem in the hub's data directory);
                                     default: the JDK's trusted CAs
              --metrics              serve Prometheus metrics at http://HOST:PORT/metrics (off by default;
                                     HOST defaults to 127.0.0.1, as the hub's; give one to serve elsewhere,
                                     e.g. 0.0.0.0:9464 for every interface)
            Point the hub at it with: iothub start --stream-gateway-url wss://HOST:PORT
            """;

    /** In the state directory: the streams whose tokens were used, until they expire. */
    static final String USED_TOKENS_FILE = "used-stream-tokens";

    /** Metrics are for the operator's scraper, not the streams' clients: loopback unless a host is given. */
    static final String METRICS_DEFAULT_HOST = "127.0.0.1";

    private GatewayMain() {
    }

    /** Where {@code --metrics [HOST:]PORT} serves: {@value #METRICS_DEFAULT_HOST} when no host is given. */
    static InetSocketAddress metricsAddress(String value) {
        return address(value, METRICS_DEFAULT_HOST);
    }

    public static void main(String[] args) throws InterruptedException, SSLException {
        LogSettings.timestamped(); // before the first logger
        Threads.logUncaughtByDefault();
        Path cert = null;
        Path key = null;
        Path tokenKeyFile = null;
        Path stateDir = null;
        InetSocketAddress listen = new InetSocketAddress("0.0.0.0", 443);
        InetSocketAddress metrics = null;
        Path recordDir = null;
        java.net.URI hubUrl = null;
        Path hubCa = null;
        boolean recordAll = false;
        int recordDays = 30;
        int recordMegabytes = 1024;
        GatewayConfig config;
        SslContext tls;
        UsedStreamTokens usedTokens;
        try {
            Duration handshake = Duration.ofSeconds(60);
            Duration idle = Duration.ofMinutes(30);
            int perDevice = 100;
            int total = 10_000;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--tls-cert" -> cert = Path.of(value(args, ++i));
                    case "--tls-key" -> key = Path.of(value(args, ++i));
                    case "--token-key-file" -> tokenKeyFile = Path.of(value(args, ++i));
                    case "--state-dir" -> stateDir = Path.of(value(args, ++i));
                    case "--listen" -> listen = address(value(args, ++i), "0.0.0.0");
                    case "--handshake-timeout" -> handshake = seconds(args[i], value(args, ++i));
                    case "--idle-timeout" -> idle = seconds(args[i], value(args, ++i));
                    case "--max-streams-per-device" -> perDevice = Math.toIntExact(count(args[i], value(args, ++i)));
                    case "--max-streams" -> total = Math.toIntExact(count(args[i], value(args, ++i)));
                    case "--metrics" -> metrics = metricsAddress(value(args, ++i));
                    case "--record-dir" -> recordDir = Path.of(value(args, ++i));
                    case "--hub-url" -> hubUrl = java.net.URI.create(value(args, ++i));
                    case "--hub-ca" -> hubCa = Path.of(value(args, ++i));
                    case "--record-all" -> recordAll = true;
                    case "--recording-max-age-days" -> recordDays = Math.toIntExact(count(args[i], value(args, ++i)));
                    case "--recording-max-mb" -> recordMegabytes = Math.toIntExact(count(args[i], value(args, ++i)));
                    case "-h", "--help" -> {
                        System.out.print(USAGE);
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
            if (recordDays < 1 || recordMegabytes < 1) {
                throw new IllegalArgumentException("recording retention must be at least 1 day and 1 MB");
            }
            if (cert == null || key == null || tokenKeyFile == null) {
                throw new IllegalArgumentException("--tls-cert, --tls-key and --token-key-file are required");
            }
            config = GatewayConfig.defaults(StreamTokenKeyFile.load(tokenKeyFile)).withHandshakeTimeout(handshake)
                    .withIdleTimeout(idle).withLimits(perDevice, total);
            tls = serverTls(cert, key);
            if (recordDir != null) {
                // recordings are sessions' plaintext: created owner-only, and older ones tightened
                OwnerOnlyFiles.createDirectories(recordDir);
                OwnerOnlyTree.secure(recordDir, "recording directory");
            }
            usedTokens = openUsedTokens(stateDir != null ? stateDir
                    : tokenKeyFile.toAbsolutePath().getParent());
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("streaming-gateway: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        StandaloneGateway gateway = StandaloneGateway.start(listen, tls, config, usedTokens);
        if (metrics != null) {
            gateway.serveMetrics(metrics);
        }
        if (recordDir != null) {
            gateway.gateway().recordings(new StreamRecordings(recordDir, recordAll, Duration.ofDays(recordDays),
                    recordMegabytes * 1024L * 1024, Clock.systemUTC()));
        }
        if (hubUrl != null) {
            gateway.followRevocations(hubUrl, hubCa != null ? io.ferryhub.common.tls.ClientTls.trusting(hubCa)
                    : SslContextBuilder.forClient().sslProvider(TlsEngine.preferred()).build());
        } else {
            System.err.println("streaming-gateway: no --hub-url: disabling, deleting or re-keying a device will "
                    + "not close its open streams here, and the hub's IP filter does not apply here");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            usedTokens.close();
            stopped.countDown();
        }, "streaming-gateway-shutdown"));
        stopped.await();
    }

    private static UsedStreamTokens openUsedTokens(Path stateDir) throws IOException {
        try {
            OwnerOnlyFiles.createDirectories(stateDir);
            return UsedStreamTokens.open(stateDir.resolve(USED_TOKENS_FILE), Clock.systemUTC());
        } catch (IOException e) {
            throw new IOException("cannot keep used stream tokens in " + stateDir + " (" + e.getMessage()
                    + "); pass --state-dir with a directory this user may write", e);
        }
    }

    private static SslContext serverTls(Path cert, Path key) throws IOException {
        try {
            return SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .sslProvider(TlsEngine.preferred())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IOException("cannot use " + cert + " / " + key + " as the gateway's certificate: "
                    + e.getMessage(), e);
        }
    }

}
