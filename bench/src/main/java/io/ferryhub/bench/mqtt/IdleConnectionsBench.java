package io.ferryhub.bench.mqtt;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.process.JvmDiagnostics;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LoadAverage;
import io.ferryhub.bench.report.ProcessFacts;
import io.ferryhub.bench.tls.BenchClientTls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Idle MQTT-over-TLS device connections (issue "device connectivity over MQTT"): connects as many devices as the
 * machine allows, in steps, and reads the broker's resident memory (VmRSS of the child process) at each step. The
 * memory per connection is (RSS at N connections - RSS before the first) / N. Mosquitto, measured the same way in
 * the same run, is the baseline. Connections are spread over several 127.0.0.x source addresses so no address
 * pair runs out of client ports.
 */
public final class IdleConnectionsBench {
    private static final Logger log = LoggerFactory.getLogger(IdleConnectionsBench.class);

    private final int[] steps;
    private final int sourceAddresses;
    private final int settleSeconds;
    private final int holdSeconds;
    private final int keepAliveSeconds;
    private final int handshakes;
    private final List<String> targets;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public IdleConnectionsBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        // the open-file limit is 20,000 per process; the hub needs a few hundred descriptors of its own
        this.steps = Arrays.stream(args.string("steps", "1000,5000,10000,15000,19000").split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).sorted().toArray();
        this.sourceAddresses = args.intValue("source-addresses", 4);
        this.settleSeconds = args.intValue("settle-seconds", 5);
        this.holdSeconds = args.intValue("hold-seconds", 30);
        this.keepAliveSeconds = args.intValue("keepalive-seconds", 240);
        this.handshakes = args.intValue("concurrent-handshakes", 32);
        this.targets = List.of(args.string("targets", "mosquitto,hub").split(","));
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("idle-connections", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        Map<String, Double> perConnectionAt15k = new LinkedHashMap<>();
        try {
            for (String target : targets) {
                measure(target.trim(), group, perConnectionAt15k);
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        Double hub = perConnectionAt15k.get("hub");
        Double mosquitto = perConnectionAt15k.get("mosquitto");
        if (hub != null && mosquitto != null && mosquitto > 0) {
            report.ratio("hub/mosquitto", hub / mosquitto, "RSS per idle TLS connection at the step nearest 15,000");
        }
        report.note("RSS per connection = (RSS with N idle connections - RSS before the first) / N; the hub is a "
                + "JVM, so its RSS also holds heap pages touched by garbage between collections.");
        report.note("Every device registered on the hub through the REST API and authenticated with its own SAS "
                + "token; MQTT keep-alive " + keepAliveSeconds + " s honoured with PINGREQ.");
        return report.write(resultsDir);
    }

    /**
     * The hub's live heap per connection after a full collection, and RSS once more: separates what connections
     * hold from garbage the collector had not reclaimed yet.
     */
    private void heapFigures(TelemetryTarget target, int connections, JvmDiagnostics.Heap baseline,
                             ObjectNode result) {
        JvmDiagnostics.Heap heap = JvmDiagnostics.heapAfterFullGc(target.process().pid());
        if (heap == null) {
            result.put("heapAfterFullGc", "unavailable (jcmd)");
            return;
        }
        result.put("heapUsedBytesAfterFullGc", heap.usedBytes());
        result.put("heapCommittedBytesAfterFullGc", heap.committedBytes());
        result.put("rssBytesAfterFullGc", target.process().rssBytes());
        if (baseline != null && connections > 0) {
            result.put("liveHeapBytesPerConnection", (heap.usedBytes() - baseline.usedBytes()) / connections);
        }
        log.info("hub after a full GC with {} connections: heap used {} MB of {} MB committed, RSS {} MB",
                connections, heap.usedBytes() >> 20, heap.committedBytes() >> 20, target.process().rssBytes() >> 20);
    }

    private TelemetryTarget open(String name, EventLoopGroup group) throws Exception {
        return switch (name) {
            case "mosquitto" -> new MosquittoTarget(runDir.resolve(name), group);
            case "hub" -> new HubTelemetryTarget(name, launcher, runDir.resolve(name), true);
            default -> throw new IllegalArgumentException("unknown target '" + name + "': use mosquitto, hub");
        };
    }

    private void measure(String name, EventLoopGroup group, Map<String, Double> perConnectionAt15k)
            throws Exception {
        int max = steps[steps.length - 1];
        ObjectNode result = report.result(name);
        ArrayNode stepResults = result.putArray("steps");
        try (TelemetryTarget target = open(name, group)) {
            target.provision(max);
            Thread.sleep(settleSeconds * 1000L);
            long pid = target.process().pid();
            JvmDiagnostics.Heap baselineHeap = null;
            if (name.equals("hub")) {
                // start from a collected heap: registration garbage must not look like free room for connections
                baselineHeap = JvmDiagnostics.heapAfterFullGc(pid);
                if (baselineHeap != null) {
                    result.put("heapUsedBytesBeforeConnections", baselineHeap.usedBytes());
                }
            }
            long baseline = target.process().rssBytes();
            result.put("rssBytesBeforeConnections", baseline);
            log.info("== {}: RSS {} MB before any connection", name, baseline >> 20);
            MqttConnector connector = new MqttConnector(group, BenchClientTls.trusting(target.caCertificate()),
                    target.tlsHost(), target.mqttAddress(), handshakes);
            List<MqttDevice> connected = new ArrayList<>(max);
            List<String> sources = new ArrayList<>();
            for (int i = 0; i < sourceAddresses; i++) {
                sources.add("127.0.0." + (2 + i));
            }
            double nearest15k = Double.NaN;
            int nearestDistance = Integer.MAX_VALUE;
            try {
                for (int step : steps) {
                    long start = System.nanoTime();
                    try {
                        connected.addAll(connector.connect(connected.size(), step, target::device, sources,
                                keepAliveSeconds, Duration.ofMinutes(5)));
                    } catch (java.io.IOException e) {
                        log.warn("{}: stopped at {} connections: {}", name, connected.size(), e.getMessage());
                        result.put("stoppedBecause", e.getMessage());
                        break;
                    }
                    double connectSeconds = (System.nanoTime() - start) / 1e9;
                    Thread.sleep(settleSeconds * 1000L);
                    long rss = target.process().rssBytes();
                    double perConnection = (rss - baseline) / (double) step;
                    ObjectNode s = stepResults.addObject();
                    s.put("connections", step);
                    s.put("connectSeconds", connectSeconds);
                    s.put("rssBytes", rss);
                    s.put("rssBytesPerConnection", Math.round(perConnection));
                    s.put("openFiles", ProcessFacts.openFiles(pid));
                    s.put("lostConnections", connector.lostConnections());
                    s.put("loadAverage", LoadAverage.read());
                    log.info("{}: {} idle connections, RSS {} MB, {} KB per connection, {} open files", name, step,
                            rss >> 20, Math.round(perConnection / 1024), ProcessFacts.openFiles(pid));
                    if (Math.abs(step - 15_000) < nearestDistance) {
                        nearestDistance = Math.abs(step - 15_000);
                        nearest15k = perConnection;
                    }
                }
                log.info("{}: holding {} connections idle for {} s", name, connected.size(), holdSeconds);
                Thread.sleep(holdSeconds * 1000L);
                long rss = target.process().rssBytes();
                result.put("maxConnections", connected.size());
                result.put("rssBytesAfterHold", rss);
                result.put("rssBytesPerConnectionAfterHold",
                        connected.isEmpty() ? 0 : Math.round((rss - baseline) / (double) connected.size()));
                result.put("lostConnectionsDuringHold", connector.lostConnections());
                result.put("peakRssBytes", target.process().peakRssBytes());
                result.put("tls", connected.isEmpty() ? "none" : MqttConnector.negotiatedTls(connected.get(0)));
                if (name.equals("hub")) {
                    heapFigures(target, connected.size(), baselineHeap, result);
                }
            } finally {
                connector.closeAll(connected);
            }
            if (!Double.isNaN(nearest15k)) {
                perConnectionAt15k.put(name, nearest15k);
            }
        }
    }
}
