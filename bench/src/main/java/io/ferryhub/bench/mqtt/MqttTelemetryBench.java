package io.ferryhub.bench.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.ProcessFacts;
import io.ferryhub.bench.tls.BenchClientTls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * MQTT telemetry, the hub against Mosquitto (issue "device connectivity over MQTT"): N device connections over TLS
 * publish QoS 1 messages with a fixed window in flight each; measured are messages/s, publish-to-PUBACK and
 * publish-to-read latency. The same load generator, TLS settings and window for every broker; the hub runs with
 * fsync on and with fsync off; Mosquitto runs first as the baseline of the ratios.
 */
public final class MqttTelemetryBench {
    private static final Logger log = LoggerFactory.getLogger(MqttTelemetryBench.class);

    private final TelemetryLoad load;
    private final int handshakes;
    private final List<String> targets;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher hubLauncher;
    private final BenchReport report;

    public MqttTelemetryBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.load = TelemetryLoad.from(args, 1000);
        this.handshakes = args.intValue("concurrent-handshakes", 32);
        this.targets = List.of(args.string("targets", "mosquitto,hub-fsync-on,hub-fsync-off").split(","));
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.hubLauncher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("mqtt-telemetry", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(load.loadThreads(), NioIoHandler.newFactory());
        try {
            Map<String, Double> rates = new LinkedHashMap<>();
            for (String target : targets) {
                rates.put(target, measure(target.trim(), group));
            }
            addRatios(rates);
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("One machine runs the load generator, the reader and the broker: they share its cores, so the "
                + "figures are a comparison on equal terms rather than either broker's capacity.");
        report.note("Mosquitto acknowledges from memory (persistence off, its default); the hub acknowledges after "
                + "the message is in its event log, fsynced (group commit) when fsync is on.");
        return report.write(resultsDir);
    }

    private TelemetryTarget open(String name, EventLoopGroup group) throws Exception {
        return switch (name) {
            case "mosquitto" -> new MosquittoTarget(runDir.resolve(name), group);
            case "hub-fsync-on" -> new HubTelemetryTarget(name, hubLauncher, runDir.resolve(name), true);
            case "hub-fsync-off" -> new HubTelemetryTarget(name, hubLauncher, runDir.resolve(name), false);
            default -> throw new IllegalArgumentException("unknown target '" + name
                    + "': use mosquitto, hub-fsync-on, hub-fsync-off");
        };
    }

    /** Runs the load against one broker and returns its messages/s. */
    private double measure(String name, EventLoopGroup group) throws Exception {
        log.info("== {}: {} devices, window {}, {} B payloads", name, load.devices(), load.window(),
                load.payloadBytes());
        ObjectNode result = report.result(name);
        try (TelemetryTarget target = open(name, group)) {
            long provisionStart = System.nanoTime();
            target.provision(load.devices());
            if (name.startsWith("hub")) {
                result.put("provisionSeconds", (System.nanoTime() - provisionStart) / 1e9);
            }
            TelemetryStats stats = new TelemetryStats();
            MqttConnector connector = new MqttConnector(group, BenchClientTls.trusting(target.caCertificate()),
                    target.tlsHost(), target.mqttAddress(), handshakes);
            AutoCloseable reader = target.startReader(stats);
            try {
                long connectStart = System.nanoTime();
                List<MqttDevice> connected = connector.connect(0, load.devices(), target::device,
                        List.of("127.0.0.1"), 60, Duration.ofMinutes(3));
                double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
                log.info("{} devices connected in {} s ({})", load.devices(), String.format(Locale.ROOT, "%.1f",
                        connectSeconds), MqttConnector.negotiatedTls(connected.get(0)));
                result.put("tls", MqttConnector.negotiatedTls(connected.get(0)));
                result.put("connectSeconds", connectSeconds);
                result.put("readPath", target.readPath());
                try {
                    runLoad(target, stats, connected);
                } finally {
                    connector.closeAll(connected);
                }
                result.put("lostConnections", connector.lostConnections());
            } finally {
                reader.close();
            }
            return summarize(target, stats, result);
        }
    }

    private void runLoad(TelemetryTarget target, TelemetryStats stats, List<MqttDevice> connected)
            throws InterruptedException {
        double cpuBefore = ProcessFacts.cpuSeconds(target.process().pid());
        for (MqttDevice device : connected) {
            device.startPublishing(stats, load.payloadBytes(), load.window());
        }
        log.info("warming up for {} s", load.warmupSeconds());
        Thread.sleep(load.warmupSeconds() * 1000L);
        stats.window.open();
        long self = ProcessHandle.current().pid();
        double selfAtOpen = ProcessFacts.cpuSeconds(self);
        double cpuAtOpen = ProcessFacts.cpuSeconds(target.process().pid());
        long lastAcks = stats.publishToAck.count();
        for (int second = 1; second <= load.measureSeconds(); second++) {
            Thread.sleep(1000);
            if (second % 5 == 0 || second == load.measureSeconds()) {
                long acks = stats.publishToAck.count();
                log.info("measuring {}: {} of {} s, {} msg/s over the last {} s, broker RSS {} MB", target.name(),
                        second, load.measureSeconds(), (acks - lastAcks) / (second % 5 == 0 ? 5 : second % 5), 5,
                        target.process().rssBytes() >> 20);
                lastAcks = acks;
            }
        }
        stats.window.close();
        double cpuAtClose = ProcessFacts.cpuSeconds(target.process().pid());
        double selfAtClose = ProcessFacts.cpuSeconds(self);
        ObjectNode result = report.result(target.name());
        // the generator (devices, reader) shares the cores: its CPU shows how much was left for the broker
        result.put("loadGeneratorCpuSecondsDuringMeasurement", selfAtClose - selfAtOpen);
        result.put("brokerCpuSecondsDuringMeasurement", cpuAtClose - cpuAtOpen);
        result.put("brokerCpuSecondsTotal", cpuAtClose - cpuBefore);
        result.put("brokerRssBytesUnderLoad", target.process().rssBytes());
        for (MqttDevice device : connected) {
            device.stopPublishing();
        }
        drain(stats);
    }

    /** Waits (bounded) until every message published in the window is acknowledged and read back. */
    private void drain(TelemetryStats stats) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(load.drainSeconds());
        while (System.nanoTime() < deadline) {
            long acked = stats.acked.sum();
            if (acked == stats.published.sum() && stats.read.sum() >= acked) {
                return;
            }
            Thread.sleep(100);
        }
        log.warn("drain: after {} s, {} published, {} acknowledged, {} read", load.drainSeconds(),
                stats.published.sum(), stats.acked.sum(), stats.read.sum());
    }

    private double summarize(TelemetryTarget target, TelemetryStats stats, ObjectNode result) {
        double seconds = stats.window.seconds();
        LatencySummary ack = stats.publishToAck.summary();
        LatencySummary read = stats.publishToRead.summary();
        double rate = ack.count() / seconds;
        result.put("measuredSeconds", seconds);
        result.put("messagesPerSecond", Math.round(rate));
        result.set("publishToPubackMs", ack.toJson());
        result.set("publishToReadMs", read.toJson());
        result.put("publishedTotal", stats.published.sum());
        result.put("acknowledgedTotal", stats.acked.sum());
        result.put("readTotal", stats.read.sum());
        result.put("windowMessagesReadBack", read.count() + " of " + ack.count());
        result.put("brokerPeakRssBytes", target.process().peakRssBytes());
        log.info("{}: {} msg/s; publish->PUBACK {}; publish->read {}", target.name(), Math.round(rate), ack, read);
        return rate;
    }

    private void addRatios(Map<String, Double> rates) {
        Double baseline = rates.get("mosquitto");
        if (baseline == null || baseline == 0) {
            return;
        }
        rates.forEach((name, rate) -> {
            if (!name.equals("mosquitto")) {
                report.ratio(name + "/mosquitto", rate / baseline, "messages/s of " + name
                        + " divided by Mosquitto's in the same run (target >= 1.0 with fsync on)");
                log.info("ratio {}/mosquitto: {}", name, String.format(Locale.ROOT, "%.2f", rate / baseline));
            }
        });
    }
}
