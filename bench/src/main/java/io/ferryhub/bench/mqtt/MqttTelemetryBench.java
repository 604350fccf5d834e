package io.ferryhub.bench.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.MachineFacts;
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
            Map<String, Integer> rounds = new LinkedHashMap<>();
            for (String target : targets) {
                // a target named again (A B A B) is measured again, as "<target>-run<n>"
                int round = rounds.merge(target.trim(), 1, Integer::sum);
                String key = round == 1 ? target.trim() : target.trim() + "-run" + round;
                rates.put(key, measure(target.trim(), key, group));
            }
            addRatios(rates);
            addThrottlingCost(rates);
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("One machine runs the load generator, the reader and the broker: they share its cores, so the "
                + "figures are a comparison on equal terms rather than either broker's capacity.");
        report.note("Mosquitto acknowledges from memory (persistence off, its default); the hub acknowledges after "
                + "the message is in its event log, fsynced (group commit) when fsync is on.");
        return report.write(resultsDir);
    }

    private TelemetryTarget open(String name, String key, EventLoopGroup group) throws Exception {
        return switch (name) {
            case "mosquitto" -> new MosquittoTarget(runDir.resolve(key), group);
            case "hub-fsync-on" -> new HubTelemetryTarget(key, hubLauncher, runDir.resolve(key), true);
            case "hub-fsync-off" -> new HubTelemetryTarget(key, hubLauncher, runDir.resolve(key), false);
            case "hub-throttling-on" -> new HubTelemetryTarget(key, hubLauncher, runDir.resolve(key), true,
                    THROTTLES_ABOVE_THE_LOAD);
            case "hub-throttling-off" -> new HubTelemetryTarget(key, hubLauncher, runDir.resolve(key), true,
                    List.of("--throttling", "off"));
            default -> throw new IllegalArgumentException("unknown target '" + name
                    + "': use mosquitto, hub-fsync-on, hub-fsync-off, hub-throttling-on, hub-throttling-off");
        };
    }

    /**
     * Every class the benchmark uses throttled far above its load, and a daily quota it cannot reach: each
     * connect, registration and message goes through the limiters and the quota, none is refused.
     */
    private static final List<String> THROTTLES_ABOVE_THE_LOAD = List.of("--throttle",
            "connect=1000000/s,d2c=1000000/s,registry=1000000/s", "--daily-messages", "1000000000000");

    /** Runs the load against one broker and returns its messages/s. */
    private double measure(String name, String key, EventLoopGroup group) throws Exception {
        log.info("== {}: {} devices, window {}, {} B payloads", key, load.devices(), load.window(),
                load.payloadBytes());
        ObjectNode result = report.result(key);
        result.put("loadAverageAtStart", MachineFacts.loadAverage());
        try (TelemetryTarget target = open(name, key, group)) {
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
            result.put("loadAverageAtEnd", MachineFacts.loadAverage());
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
        if (ack.count() > 0 && result.has("brokerCpuSecondsDuringMeasurement")) {
            // CPU per message varies far less with the machine's other load than messages/s do
            result.put("brokerCpuMicrosPerMessage", Math.round(result.get("brokerCpuSecondsDuringMeasurement")
                    .asDouble() * 1e7 / ack.count()) / 10.0);
        }
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

    /** With throttling on and off measured (interleaved), the ratios of their mean rates and CPU per message. */
    private void addThrottlingCost(Map<String, Double> rates) {
        double on = mean(rates, "hub-throttling-on");
        double off = mean(rates, "hub-throttling-off");
        if (on > 0 && off > 0) {
            report.ratio("hub-throttling-on/hub-throttling-off", on / off, "mean messages/s with every limiter "
                    + "and the daily quota on (limits far above the load) divided by the mean with throttling off, "
                    + "runs interleaved (target >= 0.97)");
            Map<String, Double> cpu = new LinkedHashMap<>();
            rates.keySet().forEach(key -> cpu.put(key, report.result(key).path("brokerCpuMicrosPerMessage")
                    .asDouble(0)));
            double cpuOn = mean(cpu, "hub-throttling-on");
            double cpuOff = mean(cpu, "hub-throttling-off");
            if (cpuOn > 0 && cpuOff > 0) {
                report.ratio("cpuPerMessage-on/cpuPerMessage-off", cpuOn / cpuOff, "mean hub CPU per message "
                        + "with throttling on divided by the same with it off (target <= 1.03)");
            }
            log.info("throttling on/off: {} messages/s, {} CPU per message", String.format(Locale.ROOT, "%.3f",
                    on / off), String.format(Locale.ROOT, "%.3f", cpuOn / cpuOff));
        }
    }

    private static double mean(Map<String, Double> rates, String target) {
        return rates.entrySet().stream().filter(e -> e.getKey().equals(target)
                        || e.getKey().startsWith(target + "-run")).mapToDouble(Map.Entry::getValue).average()
                .orElse(0);
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
