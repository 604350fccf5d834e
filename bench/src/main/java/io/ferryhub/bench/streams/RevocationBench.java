package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.process.StreamRig;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencyRecorder;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.LoadAverage;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.common.json.Json;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Revocation latency (issue "operator access"): how long after an operator disables a device its open streams end.
 * One device holds {@code --streams} (1,000) idle streams, each a connection to the service proxy relayed end to end
 * (one device stream per connection); the device is disabled with the operator's {@code PUT /devices/{id}}; each
 * stream's latency runs from the moment the PUT is sent until the client's connection to the service proxy is closed
 * (the revocation crossed the hub, the gateway and the service proxy). The device is then enabled again, its proxy
 * reconnects, and the next round opens the streams anew. Run against the embedded gateway and a stand-alone one
 * that follows the hub's revocation feed.
 */
public final class RevocationBench {
    private static final Logger log = LoggerFactory.getLogger(RevocationBench.class);
    private static final String DEVICE_ID = "bench-revoked-device";
    private static final String STREAM_NAME = "bench";
    private static final Pattern GATEWAY_FOLLOWING = Pattern.compile("revocation feed from .*: following");

    private final int streams;
    private final int rounds;
    private final List<String> gateways;
    private final List<String> proxyJvm;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public RevocationBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.streams = args.intValue("streams", 1000);
        this.rounds = args.intValue("rounds", 3);
        this.gateways = List.of(args.string("gateways", "embedded,standalone").split(","));
        this.proxyJvm = PathBenchSettings.from(args).proxyJvm();
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("revocation", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try (TargetServer target = new TargetServer(group)) {
            for (String gateway : gateways) {
                switch (gateway.trim()) {
                    case "embedded" -> measure("embedded", group, target, List.of(), null);
                    case "standalone" -> {
                        int gatewayPort = ChildProcess.freePort();
                        measure("standalone", group, target, List.of("--stream-gateway-url",
                                "wss://localhost:" + gatewayPort), gatewayPort);
                    }
                    default -> throw new IllegalArgumentException("unknown gateway '" + gateway
                            + "': use embedded, standalone");
                }
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("Latency per stream: from sending PUT /devices/{id} with status 'disabled' to the client's TCP "
                + "connection to the service proxy being closed. Every stream is one device stream of the same "
                + "device (service-proxy --no-tunnel); all are idle, relayed end to end before the PUT.");
        report.note("The hub, the device proxy, the service proxy and (stand-alone) the gateway are separate "
                + "processes; the clients, the target and the measuring run in the benchmark's JVM, all on the "
                + "machine's shared cores.");
        return report.write(resultsDir);
    }

    private void measure(String name, EventLoopGroup group, TargetServer target, List<String> hubGatewayOptions,
                         Integer gatewayPort) throws Exception {
        List<String> hubOptions = new ArrayList<>(List.of("--max-streams-per-device", Integer.toString(streams + 100),
                "--max-streams", Integer.toString(streams + 1000)));
        hubOptions.addAll(hubGatewayOptions);
        Path dir = runDir.resolve(name);
        try (StreamRig rig = StreamRig.start(launcher, dir, hubOptions, proxyJvm, group, DEVICE_ID, STREAM_NAME,
                target.port());
             ChildProcess gateway = gatewayPort == null ? null : startGateway(rig.hub(), dir, gatewayPort);
             HubRestClient rest = new HubRestClient(rig.hub(), group)) {
            ObjectNode result = report.result(name);
            ArrayNode perRound = result.putArray("rounds");
            LatencyRecorder all = new LatencyRecorder(streams * rounds);
            StreamPath path = new StreamPath("hub", new InetSocketAddress("127.0.0.1", rig.proxies().listenPort()));
            PathProbes probes = new PathProbes(group);
            for (int round = 1; round <= rounds; round++) {
                List<HeldStreamHandler> open = openStreams(probes, path, name, round);
                LatencyRecorder closed = new LatencyRecorder(streams);
                long start = System.nanoTime();
                HttpResult put = setStatus(rest, "disabled");
                long putNanos = System.nanoTime() - start;
                long last = 0;
                int notClosed = 0;
                for (HeldStreamHandler s : open) {
                    try {
                        long at = s.closedAtNanos().get(Math.max(1, 60_000_000_000L - (System.nanoTime() - start)),
                                TimeUnit.NANOSECONDS);
                        closed.record(at - start);
                        all.record(at - start);
                        last = Math.max(last, at - start);
                    } catch (java.util.concurrent.TimeoutException e) {
                        notClosed++;
                    }
                }
                LatencySummary summary = closed.summary();
                ObjectNode r = perRound.addObject();
                r.put("streamsOpen", open.size());
                r.put("streamsNotClosedWithin60s", notClosed);
                r.put("putStatus", put.status());
                r.put("putMs", putNanos / 1e6);
                r.set("closedMs", summary.toJson());
                r.put("loadAverage", LoadAverage.read());
                log.info("{} round {}: PUT {} in {} ms; {} streams closed: {} (last {} ms){}", name, round,
                        put.status(), String.format("%.1f", putNanos / 1e6), closed.count(), summary,
                        String.format("%.1f", last / 1e6), notClosed == 0 ? "" : "; " + notClosed + " NOT closed");
                setStatus(rest, "enabled");
                awaitDeviceBack(probes, path);
            }
            result.set("closedMsAllRounds", all.summary().toJson());
            List<ChildProcess> processes = new ArrayList<>(List.of(rig.hub().process(),
                    rig.proxies().deviceProxy(), rig.proxies().serviceProxy()));
            if (gateway != null) {
                processes.add(gateway);
            }
            for (ChildProcess p : processes) {
                result.put(p.name() + "PeakRssBytes", p.peakRssBytes());
            }
        }
    }

    private List<HeldStreamHandler> openStreams(PathProbes probes, StreamPath path, String name, int round)
            throws Exception {
        List<HeldStreamHandler> open = new ArrayList<>(streams);
        int batch = 50;
        for (int from = 0; from < streams; from += batch) {
            List<CompletableFuture<HeldStreamHandler>> opening = new ArrayList<>();
            for (int i = from; i < Math.min(streams, from + batch); i++) {
                opening.add(probes.hold(path));
            }
            for (CompletableFuture<HeldStreamHandler> f : opening) {
                try {
                    open.add(f.get(60, TimeUnit.SECONDS));
                } catch (Exception e) {
                    log.warn("{}: a stream did not open: {}", name, e.getMessage());
                }
            }
        }
        log.info("{} round {}: {} of {} streams open", name, round, open.size(), streams);
        return open;
    }

    /** The operator's read-modify-write of the device's status, as {@code iothub device disable} does it. */
    private static HttpResult setStatus(HubRestClient rest, String status) throws Exception {
        String path = "/devices/" + DEVICE_ID + "?" + HubRestClient.API_VERSION;
        HttpResult got = rest.send("GET", path, null, Duration.ofSeconds(30)).get(60, TimeUnit.SECONDS);
        if (!got.isSuccess()) {
            throw new IllegalStateException("GET " + path + ": " + got.errorReason());
        }
        ObjectNode device = (ObjectNode) got.json();
        device.put("status", status);
        HttpResult put = rest.send("PUT", path, Json.toBytes(device), java.util.Map.of("If-Match",
                "\"" + device.path("etag").asText() + "\""), Duration.ofSeconds(30)).get(60, TimeUnit.SECONDS);
        if (!put.isSuccess()) {
            throw new IllegalStateException("PUT " + path + " (" + status + "): " + put.errorReason());
        }
        return put;
    }

    /** After re-enabling, the device proxy reconnects on its own: wait until a new stream goes through again. */
    private static void awaitDeviceBack(PathProbes probes, StreamPath path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                probes.firstByte(path).get(30, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                // the device proxy backs off between attempts; a refused stream is expected until it is back
                TimeUnit.MILLISECONDS.sleep(200);
            }
        }
        throw new IllegalStateException("the device proxy did not come back within 120 s of re-enabling");
    }

    private ChildProcess startGateway(HubProcess hub, Path dir, int port) throws Exception {
        String java = launcher.java().toString();
        Path data = hub.dataDir().toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(proxyJvm);
        command.addAll(List.of("-cp", launcher.libDir().toAbsolutePath() + "/*", "io.ferryhub.gateway.GatewayMain",
                "--tls-cert", data.resolve("server.pem").toString(),
                "--tls-key", data.resolve("server-key.pem").toString(),
                "--token-key-file", data.resolve("stream-token.key").toString(),
                "--state-dir", dir.resolve("gateway-state").toAbsolutePath().toString(),
                "--listen", "127.0.0.1:" + port,
                "--max-streams-per-device", Integer.toString(streams + 100),
                "--max-streams", Integer.toString(streams + 1000),
                "--hub-url", "https://localhost:" + hub.httpsPort(),
                "--hub-ca", hub.caCertificate().toAbsolutePath().toString()));
        ChildProcess gateway = ChildProcess.start("gateway", command, dir, dir.resolve("gateway.log"));
        try {
            gateway.awaitLogLine(GATEWAY_FOLLOWING, Duration.ofSeconds(60));
            return gateway;
        } catch (Exception e) {
            gateway.close();
            throw e;
        }
    }
}
