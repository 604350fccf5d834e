package io.ferryhub.bench.telemetry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.mqtt.DeviceCredentials;
import io.ferryhub.bench.mqtt.HubTelemetryTarget;
import io.ferryhub.bench.mqtt.MqttConnector;
import io.ferryhub.bench.mqtt.MqttDevice;
import io.ferryhub.bench.mqtt.TelemetryLoad;
import io.ferryhub.bench.mqtt.TelemetryStats;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.ProcessFacts;
import io.ferryhub.bench.tls.BenchClientTls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Device telemetry over MQTT, AMQP and HTTPS into one hub in one run: the same N devices (registered once), the
 * same payload size and window in flight, one protocol after the other, fsync on. Every protocol's acknowledgement
 * (PUBACK, AMQP {@code accepted}, HTTP 204) comes only once the message is durable in the hub's event log, so the
 * rates compare like with like. MQTT is the baseline of the ratios.
 */
public final class TelemetryProtocolsBench {
    private static final Logger log = LoggerFactory.getLogger(TelemetryProtocolsBench.class);
    private static final int CONCURRENT_HANDSHAKES = 32;

    private final TelemetryLoad load;
    private final List<String> protocols;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher hubLauncher;
    private final BenchReport report;

    public TelemetryProtocolsBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.load = TelemetryLoad.from(args, 100);
        this.protocols = List.of(args.string("protocols", "mqtt,amqp,https").split(","));
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.hubLauncher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("telemetry-protocols", command, args.settings());
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(load.loadThreads(), NioIoHandler.newFactory());
        try (HubTelemetryTarget hub = new HubTelemetryTarget("hub", hubLauncher, runDir.resolve("hub"), true)) {
            hub.provision(load.devices());
            SslContext tls = BenchClientTls.trusting(hub.caCertificate());
            Map<String, Double> rates = new LinkedHashMap<>();
            for (String protocol : protocols) {
                rates.put(protocol.trim(), measure(protocol.trim(), hub, tls, group));
            }
            addRatios(rates);
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("One hub process (fsync on) serves all three protocols in turn; one machine runs the load "
                + "generator and the hub, sharing its cores.");
        report.note("HTTP/1.1 carries one request per connection at a time: an HTTPS device keeps 'window' "
                + "keep-alive connections, one request in flight on each; MQTT and AMQP devices keep 'window' "
                + "messages in flight on one connection.");
        return report.write(resultsDir);
    }

    private List<TelemetryPublisher> connect(String protocol, HubTelemetryTarget hub, SslContext tls,
                                             EventLoopGroup group) throws Exception {
        List<TelemetryPublisher> connected = new ArrayList<>();
        switch (protocol) {
            case "mqtt" -> {
                MqttConnector connector = new MqttConnector(group, tls, hub.tlsHost(), hub.mqttAddress(),
                        CONCURRENT_HANDSHAKES);
                for (MqttDevice device : connector.connect(0, load.devices(), hub::device, List.of("127.0.0.1"), 60,
                        Duration.ofMinutes(3))) {
                    connected.add(new MqttPublisher(device, connector));
                }
            }
            case "amqp" -> {
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", hub.hub().amqpPort());
                for (int from = 0; from < load.devices(); from += CONCURRENT_HANDSHAKES) {
                    List<CompletableFuture<AmqpTelemetryDevice>> batch = new ArrayList<>();
                    for (int i = from; i < Math.min(load.devices(), from + CONCURRENT_HANDSHAKES); i++) {
                        DeviceCredentials credentials = hub.device(i);
                        batch.add(AmqpTelemetryDevice.connect(group, tls, address, hub.tlsHost(),
                                credentials.clientId(), credentials.password()));
                    }
                    for (CompletableFuture<AmqpTelemetryDevice> device : batch) {
                        connected.add(device.get(60, TimeUnit.SECONDS));
                    }
                }
            }
            case "https" -> {
                for (int i = 0; i < load.devices(); i++) {
                    DeviceCredentials credentials = hub.device(i);
                    connected.add(new HttpsTelemetryDevice(group, tls, hub.tlsHost(), hub.hub().httpsPort(),
                            credentials.clientId(), credentials.password()));
                }
            }
            default -> throw new IllegalArgumentException("unknown protocol '" + protocol
                    + "': use mqtt, amqp, https");
        }
        return connected;
    }

    /** MQTT devices of the MQTT telemetry benchmark, seen as publishers. */
    private record MqttPublisher(MqttDevice device, MqttConnector connector) implements TelemetryPublisher {
        @Override
        public void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
            device.startPublishing(stats, payloadBytes, window);
        }

        @Override
        public void stopPublishing() {
            device.stopPublishing();
        }

        @Override
        public void close() {
            connector.closeAll(List.of(device));
        }
    }

    /** Runs the load over one protocol and returns its messages/s. */
    private double measure(String protocol, HubTelemetryTarget hub, SslContext tls, EventLoopGroup group)
            throws Exception {
        log.info("== {}: {} devices, window {}, {} B payloads", protocol, load.devices(), load.window(),
                load.payloadBytes());
        ObjectNode result = report.result(protocol);
        long connectStart = System.nanoTime();
        List<TelemetryPublisher> connected = connect(protocol, hub, tls, group);
        result.put("connectSeconds", (System.nanoTime() - connectStart) / 1e9);
        TelemetryStats stats = new TelemetryStats();
        try {
            double cpuBefore = ProcessFacts.cpuSeconds(hub.process().pid());
            for (TelemetryPublisher device : connected) {
                device.startPublishing(stats, load.payloadBytes(), load.window());
            }
            log.info("warming up for {} s", load.warmupSeconds());
            Thread.sleep(load.warmupSeconds() * 1000L);
            long self = ProcessHandle.current().pid();
            double selfAtOpen = ProcessFacts.cpuSeconds(self);
            double hubAtOpen = ProcessFacts.cpuSeconds(hub.process().pid());
            stats.window.open();
            Thread.sleep(load.measureSeconds() * 1000L);
            stats.window.close();
            result.put("loadGeneratorCpuSecondsDuringMeasurement", ProcessFacts.cpuSeconds(self) - selfAtOpen);
            result.put("hubCpuSecondsDuringMeasurement", ProcessFacts.cpuSeconds(hub.process().pid()) - hubAtOpen);
            result.put("hubCpuSecondsTotal", ProcessFacts.cpuSeconds(hub.process().pid()) - cpuBefore);
            result.put("hubRssBytesUnderLoad", hub.process().rssBytes());
            connected.forEach(TelemetryPublisher::stopPublishing);
            drain(stats);
        } finally {
            connected.forEach(TelemetryPublisher::close);
        }
        double seconds = stats.window.seconds();
        LatencySummary ack = stats.publishToAck.summary();
        double rate = ack.count() / seconds;
        result.put("measuredSeconds", seconds);
        result.put("messagesPerSecond", Math.round(rate));
        result.set("sendToDurableAckMs", ack.toJson());
        result.put("publishedTotal", stats.published.sum());
        result.put("acknowledgedTotal", stats.acked.sum());
        log.info("{}: {} msg/s; send->acknowledgement {}", protocol, Math.round(rate), ack);
        return rate;
    }

    /** Waits (bounded) until everything sent is acknowledged. */
    private void drain(TelemetryStats stats) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(load.drainSeconds());
        while (System.nanoTime() < deadline) {
            if (stats.acked.sum() == stats.published.sum()) {
                return;
            }
            Thread.sleep(100);
        }
        log.warn("drain: after {} s, {} sent, {} acknowledged", load.drainSeconds(), stats.published.sum(),
                stats.acked.sum());
    }

    private void addRatios(Map<String, Double> rates) {
        Double baseline = rates.get("mqtt");
        if (baseline == null || baseline == 0) {
            return;
        }
        rates.forEach((protocol, rate) -> {
            if (!protocol.equals("mqtt")) {
                report.ratio(protocol + "/mqtt", rate / baseline, "durable-acknowledged messages/s over "
                        + protocol + " divided by MQTT's, same hub, same run");
                log.info("ratio {}/mqtt: {}", protocol, String.format(Locale.ROOT, "%.2f", rate / baseline));
            }
        });
    }
}
