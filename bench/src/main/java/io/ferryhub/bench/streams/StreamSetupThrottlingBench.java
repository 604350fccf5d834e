package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.process.StreamRig;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.LoadAverage;
import io.ferryhub.common.tls.ClientTls;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What throttling costs a stream set-up: a hub with every throttle on (limits far above the load) against one with
 * throttling off, interleaved (off, on, off, on...) in one run, each a fresh hub and proxies; measured is
 * POST-to-first-byte of sequential set-ups, as in the streams benchmark.
 */
public final class StreamSetupThrottlingBench {
    private static final Logger log = LoggerFactory.getLogger(StreamSetupThrottlingBench.class);
    private static final String DEVICE_ID = "bench-throttled-device";
    private static final String STREAM_NAME = "bench";
    private static final List<String> ON = List.of("--throttle",
            "connect=1000000/s,registry=1000000/s,streams=1000000/s");
    private static final List<String> OFF = List.of("--throttling", "off");

    private final int rounds;
    private final int setups;
    private final int warmups;
    private final List<String> proxyJvm;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public StreamSetupThrottlingBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.rounds = args.intValue("rounds", 2);
        this.setups = args.intValue("setups", 300);
        this.warmups = args.intValue("warmup-setups", 50);
        this.proxyJvm = PathBenchSettings.from(args).proxyJvm();
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("stream-setup-throttling", command, args.settings());
    }

    public Path run() throws Exception {
        List<Double> onP50 = new ArrayList<>();
        List<Double> offP50 = new ArrayList<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try (TargetServer target = new TargetServer(group)) {
            for (int round = 1; round <= rounds; round++) {
                offP50.add(measure("hub-throttling-off-run" + round, OFF, group, target));
                onP50.add(measure("hub-throttling-on-run" + round, ON, group, target));
            }
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        double on = onP50.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double off = offP50.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        if (off > 0) {
            report.ratio("setupP50-on/setupP50-off", on / off, "mean over the rounds of the median POST-to-first-"
                    + "byte with every throttle on (far above the load) divided by the same with throttling off "
                    + "(target <= 1.03)");
            log.info("stream set-up p50 on/off: {}", String.format(Locale.ROOT, "%.3f", on / off));
        }
        report.note("Each round starts a fresh hub and proxies for 'off' and then for 'on'; set-ups are sequential "
                + "(one at a time), so the limiter is passed once per set-up, as in production.");
        return report.write(resultsDir);
    }

    private double measure(String key, List<String> hubOptions, EventLoopGroup group, TargetServer target)
            throws Exception {
        log.info("== {}", key);
        ObjectNode result = report.result(key);
        result.put("loadAverageAtStart", LoadAverage.read());
        try (StreamRig rig = StreamRig.start(launcher, runDir.resolve(key), hubOptions, proxyJvm, group, DEVICE_ID,
                STREAM_NAME, target.port())) {
            HubProcess hub = rig.hub();
            URI base = URI.create("https://" + hub.hostName() + ":" + hub.httpsPort());
            try (PostToFirstByte setup = new PostToFirstByte(group, ClientTls.trusting(hub.caCertificate()), base,
                    hub.ownerConnectionString(), DEVICE_ID, STREAM_NAME, setups)) {
                for (int i = 0; i < warmups; i++) {
                    setup.setUpOnce(false);
                }
                for (int i = 0; i < setups; i++) {
                    setup.setUpOnce(true);
                }
                setup.report(result);
                LatencySummary total = setup.totalSummary();
                log.info("{}: {}", key, setup.summary());
                result.put("loadAverageAtEnd", LoadAverage.read());
                return total.p50Ms();
            }
        }
    }
}
