package io.ferryhub.bench.mqtt;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.FsyncProbe;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.LoadAverage;
import io.ferryhub.bench.report.ProcessFacts;
import io.ferryhub.bench.tls.BenchClientTls;
import io.ferryhub.common.json.Json;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * MQTT telemetry, the hub against Mosquitto: for every shape (devices x QoS 1 messages in flight each) and round,
 * each target is started fresh, its devices connect over TLS and publish; the first {@code --cold-seconds} of
 * publishing are measured as "cold", the next {@code --warm-seconds} as "warm". Targets alternate within a shape
 * (A B A B over the rounds), so every ratio compares figures taken minutes apart on the same machine. Measured:
 * messages/s, publish-to-PUBACK and publish-to-read latency, the load average, and the disk's own fsync time
 * (a probe before and after), which is the floor of a PUBACK that waits for stable storage.
 */
public final class MqttTelemetryBench {
    private static final Logger log = LoggerFactory.getLogger(MqttTelemetryBench.class);
    private static final String BASELINE = "mosquitto";

    private final List<TelemetryShape> shapes;
    private final int rounds;
    private final int coldSeconds;
    private final int warmSeconds;
    private final int payloadBytes;
    private final int drainSeconds;
    private final int loadThreads;
    private final int handshakes;
    private final int fsyncProbeRecords;
    private final List<String> targets;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher hubLauncher;
    /** The hub built from another checkout, for an A/B of a change in the same run (target hub-baseline). */
    private final HubProcess.Launcher baselineLauncher;
    private final BenchReport report;
    /** shape -> phase -> target -> figures of each round, for the ratios. */
    private final Map<String, Map<String, Map<String, List<PhaseFigures>>>> figures = new LinkedHashMap<>();

    /** What the ratios are computed from. */
    private record PhaseFigures(double messagesPerSecond, double p50Ms, double p99Ms) {
    }

    public MqttTelemetryBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.shapes = TelemetryShape.parseList(args.string("shapes", "1x1,10x1,10x4,100x1,100x4,1000x1,1000x4"));
        this.rounds = args.intValue("rounds", 2);
        this.coldSeconds = args.intValue("cold-seconds", 15);
        this.warmSeconds = args.intValue("warm-seconds", 15);
        this.payloadBytes = args.intValue("payload-bytes", 256);
        this.drainSeconds = args.intValue("drain-seconds", 15);
        this.loadThreads = args.intValue("load-threads", 2);
        this.handshakes = args.intValue("concurrent-handshakes", 32);
        this.fsyncProbeRecords = args.intValue("fsync-probe-records", 1000);
        this.targets = List.of(args.string("targets", "mosquitto,hub-fsync-on").split(","));
        if (payloadBytes < TelemetryPayload.HEADER_BYTES) {
            throw new IllegalArgumentException("--payload-bytes must be at least " + TelemetryPayload.HEADER_BYTES);
        }
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.hubLauncher = HubProcess.Launcher.fromArgs(args);
        String baselineJar = args.string("baseline-hub-jar", "");
        this.baselineLauncher = baselineJar.isBlank() ? null : new HubProcess.Launcher(hubLauncher.java(),
                Path.of(baselineJar).toAbsolutePath(), hubLauncher.jvmOptions());
        if (baselineLauncher == null && targets.contains("hub-baseline")) {
            throw new IllegalArgumentException("target hub-baseline needs --baseline-hub-jar (iothub.jar of "
                    + "another build, its lib/ beside it)");
        }
        this.report = new BenchReport("mqtt-telemetry", command, args.settings());
    }

    public Path run() throws Exception {
        ObjectNode disk = report.result("diskFsync");
        disk.set("before", FsyncProbe.measureToJson(runDir.resolve("fsync-probe"), fsyncProbeRecords, payloadBytes));
        log.info("disk fsync before: {}", disk.get("before"));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(loadThreads, NioIoHandler.newFactory());
        try {
            for (int round = 1; round <= rounds; round++) {
                for (TelemetryShape shape : shapes) {
                    for (String target : targets) {
                        measure(target.trim(), shape, round, group);
                    }
                }
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        disk.set("after", FsyncProbe.measureToJson(runDir.resolve("fsync-probe"), fsyncProbeRecords, payloadBytes));
        log.info("disk fsync after: {}", disk.get("after"));
        addRatios();
        report.note("One machine runs the load generator, the reader and the broker: they share its cores, so the "
                + "figures are a comparison on equal terms rather than either broker's capacity.");
        report.note("Every target is started fresh for every shape and round. Cold: the first " + coldSeconds
                + " s of publishing after its devices connected (no warm-up); warm: the next " + warmSeconds + " s.");
        report.note("Mosquitto acknowledges from memory (persistence off, its default; with persistence on it "
                + "still acknowledges from memory and saves to disk only periodically); the hub acknowledges after "
                + "the message is in its event log, fsynced (group commit) when fsync is on.");
        report.note("diskFsync: fdatasync of " + payloadBytes + "-byte appends to one file in the run directory, "
                + "the disk's own time for one durable acknowledgement; hubAddedP50Ms in the summary is the hub's "
                + "publish->PUBACK p50 minus Mosquitto's in the same round.");
        return report.write(resultsDir);
    }

    private TelemetryTarget open(String name, TelemetryShape shape, int round, EventLoopGroup group)
            throws Exception {
        Path dir = runDir.resolve(shape.label() + "-" + round + "-" + name);
        return switch (name) {
            case BASELINE -> new MosquittoTarget(dir, group);
            case "hub-fsync-on" -> new HubTelemetryTarget(name, hubLauncher, dir, true);
            case "hub-fsync-off" -> new HubTelemetryTarget(name, hubLauncher, dir, false);
            case "hub-baseline" -> new HubTelemetryTarget(name, baselineLauncher, dir, true);
            case THROTTLING_ON -> new HubTelemetryTarget(name, hubLauncher, dir, true, THROTTLES_ABOVE_THE_LOAD);
            case THROTTLING_OFF -> new HubTelemetryTarget(name, hubLauncher, dir, true,
                    List.of("--throttling", "off"));
            default -> throw new IllegalArgumentException("unknown target '" + name
                    + "': use mosquitto, hub-fsync-on, hub-fsync-off, hub-baseline, " + THROTTLING_ON + ", "
                    + THROTTLING_OFF);
        };
    }

    private static final String THROTTLING_ON = "hub-throttling-on";
    private static final String THROTTLING_OFF = "hub-throttling-off";

    /**
     * Every class the benchmark uses throttled far above its load, and a daily quota it cannot reach: each
     * connect, registration and message goes through the limiters and the quota, none is refused.
     */
    private static final List<String> THROTTLES_ABOVE_THE_LOAD = List.of("--throttle",
            "connect=1000000/s,d2c=1000000/s,registry=1000000/s", "--daily-messages", "1000000000000");

    /** A fresh broker, its devices connected, then the cold and the warm phase of publishing. */
    private void measure(String name, TelemetryShape shape, int round, EventLoopGroup group) throws Exception {
        log.info("== round {} {}: {} devices, {} in flight each, {} B payloads", round, name, shape.devices(),
                shape.window(), payloadBytes);
        ObjectNode result = report.result(shape.label()).putObject("round " + round + " " + name);
        long startNanos = System.nanoTime();
        try (TelemetryTarget target = open(name, shape, round, group)) {
            result.put("startSeconds", (System.nanoTime() - startNanos) / 1e9);
            target.provision(shape.devices());
            TelemetryStats cold = new TelemetryStats();
            MqttConnector connector = new MqttConnector(group, BenchClientTls.trusting(target.caCertificate()),
                    target.tlsHost(), target.mqttAddress(), handshakes);
            AutoCloseable reader = target.startReader(cold);
            try {
                long connectStart = System.nanoTime();
                List<MqttDevice> connected = connector.connect(0, shape.devices(), target::device,
                        List.of("127.0.0.1"), 60, Duration.ofMinutes(3));
                result.put("tls", MqttConnector.negotiatedTls(connected.get(0)));
                result.put("connectSeconds", (System.nanoTime() - connectStart) / 1e9);
                result.put("readPath", target.readPath());
                try {
                    runPhases(target, shape, round, cold, connected, result);
                } finally {
                    connector.closeAll(connected);
                }
                result.put("lostConnections", connector.lostConnections());
            } finally {
                reader.close();
            }
            result.put("publishedTotal", cold.published.sum());
            result.put("acknowledgedTotal", cold.acked.sum());
            result.put("readTotal", cold.read.sum());
            result.put("brokerPeakRssBytes", target.process().peakRssBytes());
        }
    }

    private void runPhases(TelemetryTarget target, TelemetryShape shape, int round, TelemetryStats cold,
                           List<MqttDevice> connected, ObjectNode result) throws InterruptedException {
        long broker = target.process().pid();
        long self = ProcessHandle.current().pid();
        PhaseClock clock = new PhaseClock(broker, self);
        cold.window.open();
        for (MqttDevice device : connected) {
            device.startPublishing(cold, payloadBytes, shape.window());
        }
        Thread.sleep(coldSeconds * 1000L);
        TelemetryStats warm = cold.nextPhase();
        cold.window.close();
        warm.window.open();
        ObjectNode coldResult = clock.finish(target, cold);
        PhaseClock warmClock = new PhaseClock(broker, self);
        Thread.sleep(warmSeconds * 1000L);
        warm.window.close();
        ObjectNode warmResult = warmClock.finish(target, warm);
        for (MqttDevice device : connected) {
            device.stopPublishing();
        }
        drain(cold);
        // latencies of the last messages of each phase arrive after its window closed: summarize after the drain
        result.set("cold", summarize(target, shape, round, "cold", cold, coldResult));
        result.set("warm", summarize(target, shape, round, "warm", warm, warmResult));
    }

    /** CPU and load average over one phase. */
    private static final class PhaseClock {
        private final long broker;
        private final long self;
        private final String loadAtStart = LoadAverage.read();
        private final double brokerCpuAtStart;
        private final double selfCpuAtStart;

        PhaseClock(long broker, long self) {
            this.broker = broker;
            this.self = self;
            this.brokerCpuAtStart = ProcessFacts.cpuSeconds(broker);
            this.selfCpuAtStart = ProcessFacts.cpuSeconds(self);
        }

        ObjectNode finish(TelemetryTarget target, TelemetryStats stats) {
            ObjectNode node = Json.object();
            node.put("loadAverageAtStart", loadAtStart);
            node.put("loadAverageAtEnd", LoadAverage.read());
            node.put("brokerCpuSeconds", ProcessFacts.cpuSeconds(broker) - brokerCpuAtStart);
            // the generator (devices, reader) shares the cores: its CPU shows how much was left for the broker
            node.put("loadGeneratorCpuSeconds", ProcessFacts.cpuSeconds(self) - selfCpuAtStart);
            node.put("brokerRssBytesAtEnd", target.process().rssBytes());
            return node;
        }
    }

    /** Waits (bounded) until every message published is acknowledged and read back. */
    private void drain(TelemetryStats stats) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
        while (System.nanoTime() < deadline) {
            long acked = stats.acked.sum();
            if (acked == stats.published.sum() && stats.read.sum() >= acked) {
                return;
            }
            Thread.sleep(100);
        }
        log.warn("drain: after {} s, {} published, {} acknowledged, {} read", drainSeconds,
                stats.published.sum(), stats.acked.sum(), stats.read.sum());
    }

    private ObjectNode summarize(TelemetryTarget target, TelemetryShape shape, int round, String phase,
                                 TelemetryStats stats, ObjectNode node) {
        double seconds = stats.window.seconds();
        LatencySummary ack = stats.publishToAck.summary();
        LatencySummary read = stats.publishToRead.summary();
        double rate = ack.count() / seconds;
        node.put("measuredSeconds", seconds);
        node.put("messagesPerSecond", Math.round(rate));
        node.set("publishToPubackMs", ack.toJson());
        node.set("publishToReadMs", read.toJson());
        node.put("messagesReadBack", read.count() + " of " + ack.count());
        figures.computeIfAbsent(shape.label(), k -> new LinkedHashMap<>())
                .computeIfAbsent(phase, k -> new LinkedHashMap<>())
                .computeIfAbsent(target.name(), k -> new ArrayList<>())
                .add(new PhaseFigures(rate, ack.p50Ms(), ack.p99Ms()));
        log.info("round {} {} {} {}: {} msg/s; publish->PUBACK {}; publish->read {}; load {}", round,
                shape.label(), phase, target.name(), Math.round(rate), ack, read, node.get("loadAverageAtEnd"));
        return node;
    }

    /**
     * Per shape and phase, each hub target against Mosquitto round by round (messages/s ratio, PUBACK p99 ratio,
     * p50 added over Mosquitto's), and a summary table with the mean of the rounds.
     */
    private void addRatios() {
        ArrayNode summary = report.result("summary").putArray("rows");
        addThrottlingCost();
        figures.forEach((shape, phases) -> phases.forEach((phase, byTarget) -> {
            List<PhaseFigures> baseline = byTarget.get(BASELINE);
            if (baseline == null) {
                return;
            }
            byTarget.forEach((name, list) -> {
                if (name.equals(BASELINE)) {
                    return;
                }
                double rateRatio = 0;
                double p99Ratio = 0;
                double addedP50 = 0;
                int n = Math.min(list.size(), baseline.size());
                for (int i = 0; i < n; i++) {
                    PhaseFigures hub = list.get(i);
                    PhaseFigures base = baseline.get(i);
                    String key = shape + " " + phase + " round " + (i + 1) + " " + name + "/" + BASELINE;
                    report.ratio(key + " messages/s", hub.messagesPerSecond() / base.messagesPerSecond(),
                            "messages/s, same shape, phase and round (target >= 1.0)");
                    report.ratio(key + " PUBACK p99", hub.p99Ms() / base.p99Ms(),
                            "publish->PUBACK p99, same shape, phase and round (target <= 1.5)");
                    rateRatio += hub.messagesPerSecond() / base.messagesPerSecond() / n;
                    p99Ratio += hub.p99Ms() / base.p99Ms() / n;
                    addedP50 += (hub.p50Ms() - base.p50Ms()) / n;
                }
                ObjectNode row = summary.addObject();
                row.put("shape", shape);
                row.put("phase", phase);
                row.put("target", name);
                row.put("rounds", n);
                row.put("meanMessagesPerSecond", Math.round(list.stream()
                        .mapToDouble(PhaseFigures::messagesPerSecond).average().orElse(0)));
                row.put("mosquittoMeanMessagesPerSecond", Math.round(baseline.stream()
                        .mapToDouble(PhaseFigures::messagesPerSecond).average().orElse(0)));
                row.put("meanRatioMessagesPerSecond", round(rateRatio));
                row.put("meanRatioPubackP99", round(p99Ratio));
                row.put("hubAddedP50Ms", round(addedP50));
                log.info("{} {} {}: msg/s ratio {}, PUBACK p99 ratio {}, p50 added {} ms", shape, phase, name,
                        String.format(Locale.ROOT, "%.2f", rateRatio), String.format(Locale.ROOT, "%.2f", p99Ratio),
                        String.format(Locale.ROOT, "%.3f", addedP50));
            });
        }));
    }

    /** Per shape and phase, mean messages/s with throttling on (limits above the load) over off, same rounds. */
    private void addThrottlingCost() {
        figures.forEach((shape, phases) -> phases.forEach((phase, byTarget) -> {
            List<PhaseFigures> on = byTarget.get(THROTTLING_ON);
            List<PhaseFigures> off = byTarget.get(THROTTLING_OFF);
            if (on == null || off == null) {
                return;
            }
            double onRate = on.stream().mapToDouble(PhaseFigures::messagesPerSecond).average().orElse(0);
            double offRate = off.stream().mapToDouble(PhaseFigures::messagesPerSecond).average().orElse(0);
            if (offRate > 0) {
                report.ratio(shape + " " + phase + " " + THROTTLING_ON + "/" + THROTTLING_OFF, onRate / offRate,
                        "mean messages/s with every limiter and the daily quota on (limits far above the load) "
                                + "over throttling off, fresh hubs interleaved (target >= 0.97)");
            }
        }));
    }

    private static double round(double value) {
        return Math.round(value * 1000.0) / 1000.0;
    }
}
