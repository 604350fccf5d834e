package io.ferryhub.bench.streams;

import io.ferryhub.bench.BenchArgs;

import java.util.Arrays;
import java.util.List;

/**
 * What the streams and tunnels benchmarks measure on every path alike ({@link PathSequence}): the transfer and its
 * warm-up, the set-ups and theirs, the round trips, and the JVM options of the proxies.
 */
record PathBenchSettings(long transferBytes, long warmupBytes, int warmupSetups, int setups, int pings,
                         int pingBytes, List<String> proxyJvm) {
    static PathBenchSettings from(BenchArgs args) {
        String jvm = args.string("proxy-jvm", "");
        return new PathBenchSettings(
                args.longValue("transfer-mb", 200) * 1024 * 1024,
                // Long enough for the JIT to finish with the relay paths of every JVM on the path: with 20 MB the
                // measured transfer still paid for compilation and read about half the steady rate; with 200 MB a
                // tunnel channel's transfer still did (C2 compiler threads took over half of the hub's and both
                // proxies' CPU samples during it) and read 150-160 MiB/s, with 1,000 MB about 210.
                args.longValue("warmup-mb", 1000) * 1024 * 1024,
                // Set-ups are a code path of their own (connects, handshakes, a tunnel's OPEN): after 20 or 100 a
                // tunnel channel took 3.6-4.0 ms at p50, after 3,000 (or a stream path run before it) 1.5-1.8 ms.
                args.intValue("warmup-setups", 2000),
                args.intValue("setups", 300),
                args.intValue("pings", 2000),
                args.intValue("ping-bytes", 64),
                jvm.isBlank() ? List.of() : Arrays.asList(jvm.trim().split("\\s+")));
    }
}
