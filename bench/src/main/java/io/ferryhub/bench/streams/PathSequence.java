package io.ferryhub.bench.streams;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.report.LatencyRecorder;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.report.MachineQuiet;
import io.ferryhub.bench.report.ProcessFacts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the streams and tunnels benchmarks measure on every path, the same way and in the same order, so that
 * their figures for the same path compare: wait for an idle machine, warm up (set-ups, a transfer, round trips),
 * then set-ups one after another, one connection's throughput with the CPU of every process on the path, and
 * round trips. Each benchmark adds its own phases after these.
 */
final class PathSequence {
    private static final Logger log = LoggerFactory.getLogger(PathSequence.class);
    /** Busy cores of the whole machine under which it counts as idle, and for how many seconds in a row. */
    private static final double IDLE_CORES = 0.15;
    private static final int IDLE_SECONDS = 2;
    private static final int IDLE_TIMEOUT_SECONDS = 120;

    private PathSequence() {
    }

    /**
     * Runs the common measurements of {@code path} into {@code result}: {@code quietWaitSeconds}, {@code setupMs},
     * {@code throughputKey} (MiB/s), {@code cpuKey} (cores per process, and the benchmark's own JVM as
     * client-and-target) and {@code roundTripMs}.
     */
    static void measure(PathProbes probes, StreamPath path, List<ChildProcess> processes, PathBenchSettings settings,
                        ObjectNode result, String throughputKey, String cpuKey) throws Exception {
        // A previous path's peers may still be busy (stunnel closing a thousand connections took seconds after its
        // last phase, on the cores the next path was measured on).
        double waited = MachineQuiet.await(IDLE_CORES, IDLE_SECONDS, IDLE_TIMEOUT_SECONDS);
        result.put("quietWaitSeconds", round(waited));
        if (waited < 0) {
            log.warn("{}: the machine did not go idle within {} s; measuring anyway", path.name(),
                    IDLE_TIMEOUT_SECONDS);
        }

        log.info("== {}: warming up", path.name());
        for (int i = 0; i < settings.warmupSetups(); i++) {
            probes.firstByte(path).get(1, TimeUnit.MINUTES);
        }
        probes.transfer(path, settings.warmupBytes()).get(5, TimeUnit.MINUTES);
        probes.pingPong(path, 200, 0, settings.pingBytes(), new LatencyRecorder(200)).get(1, TimeUnit.MINUTES);

        LatencyRecorder setup = new LatencyRecorder(settings.setups());
        for (int i = 0; i < settings.setups(); i++) {
            setup.record(probes.firstByte(path).get(1, TimeUnit.MINUTES));
        }
        LatencySummary setupSummary = setup.summary();
        result.set("setupMs", setupSummary.toJson());
        log.info("{}: set-up (connect to first byte) {}", path.name(), setupSummary);

        long self = ProcessHandle.current().pid();
        double selfBefore = ProcessFacts.cpuSeconds(self);
        double[] cpuBefore = cpuSeconds(processes);
        long nanos = probes.transfer(path, settings.transferBytes()).get(10, TimeUnit.MINUTES);
        double[] cpuAfter = cpuSeconds(processes);
        double selfAfter = ProcessFacts.cpuSeconds(self);
        double seconds = nanos / 1e9;
        double mibps = settings.transferBytes() / seconds / (1024 * 1024);
        result.put(throughputKey, round(mibps));
        // which process on the path is the bottleneck: its share of one core during the transfer
        ObjectNode cpu = result.putObject(cpuKey);
        for (int i = 0; i < processes.size(); i++) {
            cpu.put(processes.get(i).name(), round((cpuAfter[i] - cpuBefore[i]) / seconds));
        }
        cpu.put("client-and-target", round((selfAfter - selfBefore) / seconds));
        log.info("{}: one connection moves {} MiB/s", path.name(), round(mibps));

        LatencyRecorder rtt = new LatencyRecorder(settings.pings());
        probes.pingPong(path, settings.pings(), 50, settings.pingBytes(), rtt).get(5, TimeUnit.MINUTES);
        result.set("roundTripMs", rtt.summary().toJson());
        log.info("{}: {}-byte round trip {}", path.name(), settings.pingBytes(), rtt.summary());
    }

    private static double[] cpuSeconds(List<ChildProcess> processes) {
        return processes.stream().mapToDouble(p -> ProcessFacts.cpuSeconds(p.pid())).toArray();
    }

    static double round(double value) {
        return Math.round(value * 100.0) / 100.0;
    }
}
