package io.ferryhub.bench.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.hub.DeviceRegistrar;
import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.client.http.HttpResult;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The identity registry at scale (issue "hub foundation"): registers devices through {@code PUT /devices/{id}} with
 * concurrent clients, then restarts the hub on the full registry. Reports devices/s (overall and per tenth, so a
 * slowdown as the registry grows shows), peak hub memory, data-dir size and restart time. The baselines measured in
 * the same run: the first tenth's rate, and the hub's first start on an empty data directory.
 */
public final class RegistryBench {
    private static final Logger log = LoggerFactory.getLogger(RegistryBench.class);

    private final int devices;
    private final int warmupDevices;
    private final int concurrency;
    private final int timeoutMinutes;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public RegistryBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.devices = args.intValue("devices", 1_000_000);
        this.warmupDevices = args.intValue("warmup-devices", 10_000);
        this.concurrency = args.intValue("concurrency", 64);
        this.timeoutMinutes = args.intValue("timeout-minutes", 30);
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("registry", command, args.settings());
    }

    static String deviceId(int index) {
        return String.format("bench-registry-%07d", index);
    }

    public Path run() throws Exception {
        Path dataDir = runDir.resolve("data");
        ObjectNode result = report.result("hub");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try {
            HubProcess hub = HubProcess.start(launcher, dataDir, true, runDir.resolve("hub-first.log"),
                    Duration.ofMinutes(2));
            try {
                result.put("emptyStartSeconds", hub.startTime().toMillis() / 1000.0);
                AtomicLong peakRss = new AtomicLong();
                sampler.scheduleAtFixedRate(() -> peakRss.accumulateAndGet(hub.process().rssBytes(), Math::max),
                        0, 500, TimeUnit.MILLISECONDS);
                register(hub, group, result);
                result.put("peakRssBytes", Math.max(peakRss.get(), hub.process().peakRssBytes()));
                result.put("rssBytesAfterRegistration", hub.process().rssBytes());
            } finally {
                // timed: a stop flushes and closes the journal, part of what a restart costs
                long stopStart = System.nanoTime();
                hub.close();
                result.put("stopSeconds", (System.nanoTime() - stopStart) / 1e9);
            }
            result.put("dataDirBytes", directorySize(dataDir));
            result.put("dataDirBytesPerDevice", directorySize(dataDir) / (double) devices);
            restart(dataDir, group, result);
        } finally {
            sampler.shutdownNow();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("Registration goes through the full REST path: TLS, SAS check of an iothubowner token, JSON, "
                + "registry rules, a durable (fsynced, group-committed) journal write before the answer.");
        report.note("The load generator and the hub share the machine's cores.");
        return report.write(resultsDir);
    }

    private void register(HubProcess hub, EventLoopGroup group, ObjectNode result) throws Exception {
        try (HubRestClient rest = new HubRestClient(hub, group)) {
            DeviceRegistrar registrar = new DeviceRegistrar(rest, concurrency);
            long start = System.nanoTime();
            // the first devices pay for JIT compilation and the clients' TLS handshakes: counted in the total,
            // kept out of the per-tenth rates
            int warmup = Math.min(warmupDevices, devices / 2);
            registrar.register(0, warmup, RegistryBench::deviceId, (i, key) -> { },
                    Duration.ofMinutes(timeoutMinutes), done -> { });
            log.info("warm-up: {} devices registered", warmup);
            int tenth = Math.max(1, (devices - warmup) / 10);
            var perTenth = result.putArray("devicesPerSecondPerTenthAfterWarmup");
            double firstRate = 0;
            double lastRate = 0;
            for (int from = warmup; from < devices; from += tenth) {
                int to = Math.min(devices, from + tenth);
                long sliceStart = System.nanoTime();
                registrar.register(from, to, RegistryBench::deviceId, (i, key) -> { }, Duration.ofMinutes(
                        timeoutMinutes), done -> { });
                double rate = (to - from) / ((System.nanoTime() - sliceStart) / 1e9);
                perTenth.add(Math.round(rate));
                firstRate = from == warmup ? rate : firstRate;
                lastRate = rate;
                log.info("registered {} of {} devices: {} devices/s in this tenth, hub RSS {} MB", to, devices,
                        Math.round(rate), hub.process().rssBytes() >> 20);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            result.put("devices", devices);
            result.put("registrationSeconds", seconds);
            result.put("devicesPerSecond", Math.round(devices / seconds));
            report.ratio("lastTenth/firstTenth", lastRate / firstRate,
                    "registration rate of the last tenth (full registry) over the first tenth after warm-up");
            result.put("totalDeviceCountReported", deviceCount(rest));
        }
    }

    private void restart(Path dataDir, EventLoopGroup group, ObjectNode result) throws Exception {
        log.info("restarting the hub on {} devices", devices);
        try (HubProcess hub = HubProcess.start(launcher, dataDir, true, runDir.resolve("hub-restart.log"),
                Duration.ofMinutes(10))) {
            double restart = hub.startTime().toMillis() / 1000.0;
            result.put("restartSeconds", restart);
            result.put("rssBytesAfterRestart", hub.process().rssBytes());
            try (HubRestClient rest = new HubRestClient(hub, group)) {
                long count = deviceCount(rest);
                result.put("totalDeviceCountAfterRestart", count);
                HttpResult last = rest.send("GET", "/devices/" + deviceId(devices - 1) + "?"
                        + HubRestClient.API_VERSION, null, Duration.ofSeconds(30)).get(60, TimeUnit.SECONDS);
                result.put("lastDeviceReadableAfterRestart", last.isSuccess());
                if (count != devices || !last.isSuccess()) {
                    report.note("After the restart the registry reported " + count + " devices (expected " + devices
                            + ") and GET of the last device answered " + last.status());
                }
            }
            report.ratio("restart/emptyStart", restart / result.path("emptyStartSeconds").asDouble(),
                    "hub start time with the full registry over the first start on an empty data directory");
            log.info("restart with {} devices: {} s", devices, String.format(Locale.ROOT, "%.2f", restart));
        }
    }

    /** {@code totalDeviceCount} of {@code GET /statistics/devices}, or -1 when the hub does not answer it. */
    private static long deviceCount(HubRestClient rest) throws Exception {
        HttpResult stats = rest.send("GET", "/statistics/devices?" + HubRestClient.API_VERSION, null,
                Duration.ofSeconds(60)).get(90, TimeUnit.SECONDS);
        return stats.isSuccess() ? stats.json().path("totalDeviceCount").asLong(-1) : -1;
    }

    static long directorySize(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
