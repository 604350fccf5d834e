package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.process.StreamProxies;
import io.ferryhub.bench.process.StreamRig;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencyRecorder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tunnel sessions against one device stream per connection against direct TCP, in one run, to the same target:
 * connection set-up (connect to the first echoed byte), single-connection throughput, and the interactive round
 * trip alone and while a bulk transfer runs beside it (on the same tunnel session in tunnel mode).
 */
public final class TunnelsBench {
    private static final Logger log = LoggerFactory.getLogger(TunnelsBench.class);
    private static final String DEVICE_ID = "bench-tunnel-device";
    private static final String STREAM_NAME = "bench";
    private static final String DIRECT = "direct";
    private static final String TUNNEL = "tunnel";
    private static final String STREAM = "stream-per-connection";

    private final PathBenchSettings settings;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public TunnelsBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.settings = PathBenchSettings.from(args);
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("tunnels", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try (TargetServer target = new TargetServer(group);
             StreamRig rig = StreamRig.start(launcher, runDir, List.of(), settings.proxyJvm(), group, DEVICE_ID,
                     STREAM_NAME, target.port())) {
            StreamProxies proxies = rig.proxies();
            ChildProcess hub = rig.hub().process();
            PathProbes probes = new PathProbes(group);
            measure(probes, new StreamPath(DIRECT, loopback(target.port())), List.of());
            measure(probes, new StreamPath(TUNNEL, loopback(proxies.tunnelListenPort())),
                    List.of(hub, proxies.tunnelServiceProxy(), proxies.deviceProxy()));
            measure(probes, new StreamPath(STREAM, loopback(proxies.listenPort())),
                    List.of(hub, proxies.serviceProxy(), proxies.deviceProxy()));
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        addRatios();
        report.note("One hub (embedded gateway), one device-proxy and two service-proxies, each in its own JVM: one "
                + "in its default tunnel mode (every connection a channel of one multiplexed session over one "
                + "WebSocket), one with --no-tunnel (every connection an IoT Hub device stream of its own). The "
                + "target server and the clients run in the benchmark's JVM; all share the machine's cores.");
        report.note("Set-up: TCP connect to the path's local port until the first byte comes back from the echo. "
                + "Through a tunnel that is one OPEN/OPEN_OK round trip to the device proxy over the open session; "
                + "with a stream per connection it is the POST, the device's answer over MQTT, two TLS WebSocket "
                + "connections to the gateway and the device proxy's connection to the target.");
        report.note("Round trip beside bulk: " + settings.pingBytes() + "-byte echoes on one connection while "
                + "another connection of the same path pushes into the sink as fast as it can; in tunnel mode both are "
                + "channels of the same session (same WebSocket, per-channel windows), otherwise separate streams.");
        return report.write(resultsDir);
    }

    private void measure(PathProbes probes, StreamPath path, List<ChildProcess> processes) throws Exception {
        ObjectNode result = report.result(path.name());
        PathSequence.measure(probes, path, processes, settings, result, "throughputMiBPerSecond",
                "throughputCpuCoresUsed");

        SinkTransferHandler bulk = probes.bulk(path).get(1, TimeUnit.MINUTES);
        try {
            Thread.sleep(1000);
            long bulkBefore = bulk.bytesWritten();
            long start = System.nanoTime();
            LatencyRecorder loaded = new LatencyRecorder(settings.pings());
            probes.pingPong(path, settings.pings(), 50, settings.pingBytes(), loaded).get(10, TimeUnit.MINUTES);
            double seconds = (System.nanoTime() - start) / 1e9;
            result.set("roundTripMsBesideBulk", loaded.summary().toJson());
            result.put("bulkMiBPerSecondDuringRoundTrips",
                    round((bulk.bytesWritten() - bulkBefore) / seconds / (1024 * 1024)));
            log.info("{}: round trip beside a bulk transfer {}", path.name(), loaded.summary());
        } finally {
            bulk.stop();
        }
    }

    private void addRatios() {
        ObjectNode direct = report.result(DIRECT);
        ObjectNode tunnel = report.result(TUNNEL);
        ObjectNode stream = report.result(STREAM);
        report.ratio("setup p50 stream-per-connection/tunnel", p(stream, "setupMs", "p50Ms") / p(tunnel, "setupMs",
                "p50Ms"), "how many times longer a new connection takes with its own stream than as a channel");
        report.ratio("setup p99 stream-per-connection/tunnel", p(stream, "setupMs", "p99Ms") / p(tunnel, "setupMs",
                "p99Ms"), "the same at p99");
        report.ratio("setup p50 tunnel/direct", p(tunnel, "setupMs", "p50Ms") / p(direct, "setupMs", "p50Ms"),
                "a channel open over direct TCP's connect");
        double t = tunnel.path("throughputMiBPerSecond").asDouble();
        double s = stream.path("throughputMiBPerSecond").asDouble();
        double d = direct.path("throughputMiBPerSecond").asDouble();
        report.ratio("throughput tunnel/direct", t / d, "one connection through a tunnel over direct TCP");
        report.ratio("throughput stream-per-connection/direct", s / d, "one connection as its own stream over direct");
        report.ratio("throughput tunnel/stream-per-connection", t / s, "a channel over a stream of its own");
        report.ratio("round trip p99 beside bulk/alone, tunnel", p(tunnel, "roundTripMsBesideBulk", "p99Ms")
                / p(tunnel, "roundTripMs", "p99Ms"), "how much a bulk channel on the same session slows an "
                + "interactive one at p99");
        report.ratio("round trip p99 beside bulk/alone, stream-per-connection",
                p(stream, "roundTripMsBesideBulk", "p99Ms") / p(stream, "roundTripMs", "p99Ms"),
                "the same with separate streams");
    }

    private static double p(ObjectNode result, String what, String percentile) {
        return result.path(what).path(percentile).asDouble();
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private static double round(double value) {
        return Math.round(value * 100.0) / 100.0;
    }
}
