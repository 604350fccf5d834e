package io.ferryhub.bench.throttling;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LoadAverage;
import io.ferryhub.hub.service.throttling.DailyMessageQuota;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
import io.ferryhub.hub.service.throttling.Throttles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * What throttling adds to each device-to-cloud message, measured where a fresh-hub telemetry run cannot resolve it
 * (fresh hubs on shared cores differ by more than the few percent at stake): the nanoseconds the hub spends per
 * message in the d2c limiter and the daily quota, with 1 and 2 threads admitting at once (the hub's event loops).
 * The telemetry run of {@code scripts/bench-throttling} gives the hub's CPU per message to
 * set it against.
 */
public final class ThrottleOverheadBench {
    private static final Logger log = LoggerFactory.getLogger(ThrottleOverheadBench.class);
    private final int seconds;
    private final Path resultsDir;
    private final BenchReport report;

    public ThrottleOverheadBench(BenchArgs args, String command, Path resultsDir) {
        this.seconds = args.intValue("seconds", 3);
        this.resultsDir = resultsDir;
        this.report = new BenchReport("throttle-overhead", command, args.settings());
    }

    public Path run() throws Exception {
        // limits far above what the loop reaches: every call is admitted, as in a hub below its limits
        Throttles throttles = new Throttles(ThrottleSettings.s1().withSpec("d2c=1000000000/s"));
        DailyMessageQuota quota = new DailyMessageQuota(Long.MAX_VALUE / 2, Clock.systemUTC(), null);
        for (int threads : new int[] {1, 2}) {
            measure(threads, throttles, quota); // warm-up of the same shape
            ObjectNode r = report.result(threads + (threads == 1 ? " thread" : " threads"));
            r.put("nanosPerMessage", measure(threads, throttles, quota));
            r.put("loadAverage", LoadAverage.read());
        }
        report.note("Per message: Throttles.admit(D2C) (a GCRA compare-and-set) and DailyMessageQuota.charge(256) (a "
                + "compare-and-set on today's count), as the hub's telemetry path calls them; threads share one "
                + "limiter and one quota as the hub's event loops do.");
        return report.write(resultsDir);
    }

    private double measure(int threads, Throttles throttles, DailyMessageQuota quota) throws Exception {
        LongAdder calls = new LongAdder();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                long n = 0;
                while (System.nanoTime() < end) {
                    for (int i = 0; i < 1000; i++) {
                        throttles.admit(OperationClass.D2C);
                        quota.charge(256);
                    }
                    n += 1000;
                }
                calls.add(n);
                done.countDown();
            });
            thread.start();
        }
        done.await();
        double nanos = (double) seconds * 1_000_000_000L * threads / calls.sum();
        log.info("{} thread(s): {} ns per message in the limiter and the quota", threads,
                String.format("%.1f", nanos));
        return Math.round(nanos * 10) / 10.0;
    }
}
