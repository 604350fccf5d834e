package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.process.StreamProxies;
import io.ferryhub.bench.process.StreamRig;
import io.ferryhub.bench.process.StunnelChain;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencyRecorder;
import io.ferryhub.bench.tls.BenchClientTls;
import io.ferryhub.common.tls.ClientTls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Device streams (issue "device streams"): the path client -> service-proxy => hub gateway => device-proxy -> target
 * against a direct TCP connection and against a stunnel chain with TLS on both legs, to the same target server.
 * Measured per path: single-stream throughput, round-trip latency, set-up time (connect to first echoed byte,
 * which for a device stream covers the POST, the device's answer and both WebSocket connections), new streams per
 * second, and aggregate throughput with many concurrent streams, with the memory of every process on the path.
 */
public final class StreamsBench {
    private static final Logger log = LoggerFactory.getLogger(StreamsBench.class);
    private static final String DEVICE_ID = "bench-stream-device";
    private static final String STREAM_NAME = "bench";

    private final int churnSeconds;
    private final int churnConcurrency;
    private final int concurrentStreams;
    private final int concurrentSeconds;
    private final int concurrentWindow;
    private final List<String> paths;
    private final PathBenchSettings settings;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public StreamsBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.churnSeconds = args.intValue("churn-seconds", 10);
        this.churnConcurrency = args.intValue("churn-concurrency", 16);
        this.concurrentStreams = args.intValue("concurrent-streams", 1000);
        this.concurrentSeconds = args.intValue("concurrent-seconds", 15);
        this.concurrentWindow = args.intValue("concurrent-window-bytes", 32 * 1024);
        this.paths = List.of(args.string("paths", "direct,stunnel,hub,hub-tunnel").split(","));
        this.settings = PathBenchSettings.from(args);
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("streams", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try (TargetServer target = new TargetServer(group);
             StreamRig rig = StreamRig.start(launcher, runDir,
                     List.of("--max-streams-per-device", Integer.toString(concurrentStreams + 100),
                             "--max-streams", Integer.toString(concurrentStreams + 1000)),
                     settings.proxyJvm(), group, DEVICE_ID, STREAM_NAME, target.port())) {
            HubProcess hub = rig.hub();
            StreamProxies proxies = rig.proxies();
            try (StunnelChain stunnel = StunnelChain.start(runDir.resolve("stunnel"), target.port(),
                    BenchClientTls.CIPHER_SUITE)) {
                PathProbes probes = new PathProbes(group);
                List<ChildProcess> hubPath = List.of(hub.process(), proxies.serviceProxy(), proxies.deviceProxy());
                List<ChildProcess> tunnelPath = List.of(hub.process(), proxies.tunnelServiceProxy(),
                        proxies.deviceProxy());
                for (String name : paths) {
                    StreamPath path = switch (name.trim()) {
                        case "direct" -> new StreamPath("direct", loopback(target.port()));
                        case "stunnel" -> new StreamPath("stunnel", loopback(stunnel.entryPort()));
                        case "hub" -> new StreamPath("hub", loopback(proxies.listenPort()));
                        case "hub-tunnel" -> new StreamPath("hub-tunnel", loopback(proxies.tunnelListenPort()));
                        default -> throw new IllegalArgumentException("unknown path '" + name
                                + "': use direct, stunnel, hub, hub-tunnel");
                    };
                    List<ChildProcess> processes = switch (path.name()) {
                        case "hub" -> hubPath;
                        case "hub-tunnel" -> tunnelPath;
                        case "stunnel" -> List.of(stunnel.process());
                        default -> List.of();
                    };
                    measure(probes, path, processes);
                    if (path.name().equals("hub")) {
                        measurePostToFirstByte(group, hub, report.result("hub"));
                    }
                }
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        addRatios();
        report.note("Every path ends at the same target server in the benchmark's JVM, which also runs the "
                + "clients; the hub, both proxies and stunnel are separate processes; all share the machine's cores.");
        report.note("The stunnel chain has the hub path's topology: client -> plain-to-TLS -> TLS relay -> "
                + "TLS-to-plain -> target; its relay re-encrypts through a plain loopback hop between two services.");
        report.note("'hub' is one device stream per connection (service-proxy --no-tunnel, IoT Hub's protocol, what "
                + "the targets are about); 'hub-tunnel' is service-proxy's default, every connection a channel of "
                + "one multiplexed tunnel session over one WebSocket, so its set-up is a channel open, not a stream.");
        report.note("Set-up time through the hub: TCP connect to service-proxy until the first byte comes back "
                + "from the target: POST /twins/{id}/streams/{name}, the device's answer over MQTT, both TLS "
                + "WebSocket connections to the gateway, and the device-proxy's connection to the target.");
        return report.write(resultsDir);
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    private void measure(PathProbes probes, StreamPath path, List<ChildProcess> processes) throws Exception {
        ObjectNode result = report.result(path.name());
        PathSequence.measure(probes, path, processes, settings, result, "singleStreamMiBPerSecond",
                "singleStreamCpuCoresUsed");

        LatencyRecorder churnSetups = new LatencyRecorder(1_000_000);
        long churnStart = System.nanoTime();
        long[] churn = probes.churn(path, churnConcurrency, churnStart + TimeUnit.SECONDS.toNanos(churnSeconds),
                churnSetups).get(churnSeconds + 120L, TimeUnit.SECONDS);
        double churnRate = churn[0] / ((System.nanoTime() - churnStart) / 1e9);
        result.put("newStreamsPerSecond", Math.round(churnRate));
        result.put("newStreamsFailed", churn[1]);
        result.set("setupMsUnderChurn", churnSetups.summary().toJson());
        log.info("{}: {} new streams/s with {} opening at once ({} failed)", path.name(), Math.round(churnRate),
                churnConcurrency, churn[1]);

        concurrent(probes, path, processes, result.putObject("concurrent"));
        for (ChildProcess process : processes) {
            result.put(process.name() + "PeakRssBytes", process.peakRssBytes());
        }
    }

    private void measurePostToFirstByte(EventLoopGroup group, HubProcess hub, ObjectNode result) throws Exception {
        URI base = URI.create("https://" + hub.hostName() + ":" + hub.httpsPort());
        try (PostToFirstByte setup = new PostToFirstByte(group, ClientTls.trusting(hub.caCertificate()), base,
                hub.ownerConnectionString(), DEVICE_ID, STREAM_NAME, settings.setups())) {
            for (int i = 0; i < 10; i++) {
                setup.setUpOnce(false);
            }
            for (int i = 0; i < settings.setups(); i++) {
                setup.setUpOnce(true);
            }
            setup.report(result);
            log.info("hub: {}", setup.summary());
        }
    }

    private void concurrent(PathProbes probes, StreamPath path, List<ChildProcess> processes, ObjectNode result)
            throws Exception {
        log.info("{}: opening {} concurrent streams", path.name(), concurrentStreams);
        LongAdder echoed = new LongAdder();
        List<EchoPumpHandler> open = new ArrayList<>(concurrentStreams);
        long openStart = System.nanoTime();
        int batch = 50;
        try {
            for (int from = 0; from < concurrentStreams; from += batch) {
                List<CompletableFuture<EchoPumpHandler>> opening = new ArrayList<>();
                for (int i = from; i < Math.min(concurrentStreams, from + batch); i++) {
                    opening.add(probes.openPump(path, concurrentWindow, echoed));
                }
                for (CompletableFuture<EchoPumpHandler> f : opening) {
                    try {
                        open.add(f.get(60, TimeUnit.SECONDS));
                    } catch (Exception e) {
                        log.warn("{}: a stream did not open: {}", path.name(), e.getMessage());
                    }
                }
                if ((from + batch) % 200 == 0) {
                    log.info("{}: {} of {} streams open", path.name(), open.size(), concurrentStreams);
                }
            }
            result.put("streamsOpen", open.size());
            result.put("openSeconds", (System.nanoTime() - openStart) / 1e9);
            for (ChildProcess process : processes) {
                result.put(process.name() + "RssBytesIdle", process.rssBytes());
            }
            open.forEach(EchoPumpHandler::start);
            Thread.sleep(2000);
            long before = echoed.sum();
            long start = System.nanoTime();
            for (int s = 5; s <= concurrentSeconds; s += 5) {
                Thread.sleep(5000);
                log.info("{}: {} streams pumping, {} MiB echoed", path.name(), open.size(),
                        (echoed.sum() - before) >> 20);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double mibps = (echoed.sum() - before) / seconds / (1024 * 1024);
            result.put("aggregateEchoMiBPerSecond", round(mibps));
            for (ChildProcess process : processes) {
                result.put(process.name() + "RssBytesPumping", process.rssBytes());
            }
            log.info("{}: {} concurrent streams, {} MiB/s echoed in aggregate", path.name(), open.size(),
                    round(mibps));
        } finally {
            open.forEach(EchoPumpHandler::stop);
            open.forEach(EchoPumpHandler::close);
        }
    }

    private void addRatios() {
        ObjectNode tunnel = report.result("hub-tunnel");
        ObjectNode stunnelResult = report.result("stunnel");
        if (tunnel.has("singleStreamMiBPerSecond") && stunnelResult.has("singleStreamMiBPerSecond")) {
            report.ratio("throughput hub-tunnel/stunnel", tunnel.path("singleStreamMiBPerSecond").asDouble()
                    / stunnelResult.path("singleStreamMiBPerSecond").asDouble(),
                    "single-connection throughput through a tunnel session over the stunnel chain's");
        }
        ObjectNode direct = report.result("direct");
        ObjectNode stunnel = report.result("stunnel");
        ObjectNode hub = report.result("hub");
        if (hub.has("singleStreamMiBPerSecond")) {
            double h = hub.path("singleStreamMiBPerSecond").asDouble();
            if (stunnel.has("singleStreamMiBPerSecond")) {
                report.ratio("throughput hub/stunnel", h / stunnel.path("singleStreamMiBPerSecond").asDouble(),
                        "single-stream throughput through the hub over the stunnel chain's (target >= 0.75)");
            }
            if (direct.has("singleStreamMiBPerSecond")) {
                report.ratio("throughput hub/direct", h / direct.path("singleStreamMiBPerSecond").asDouble(),
                        "single-stream throughput through the hub over direct TCP");
            }
            if (direct.has("roundTripMs")) {
                ObjectNode added = hub.putObject("addedRoundTripMsVsDirect");
                added.put("p50", round(hub.path("roundTripMs").path("p50Ms").asDouble()
                        - direct.path("roundTripMs").path("p50Ms").asDouble()));
                added.put("p99", round(hub.path("roundTripMs").path("p99Ms").asDouble()
                        - direct.path("roundTripMs").path("p99Ms").asDouble()));
            }
        }
    }

    private static double round(double value) {
        return Math.round(value * 100.0) / 100.0;
    }
}
