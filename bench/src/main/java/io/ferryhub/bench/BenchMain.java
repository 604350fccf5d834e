package io.ferryhub.bench;

import io.ferryhub.bench.eventhubs.EventHubsReaderBench;
import io.ferryhub.bench.mqtt.IdleConnectionsBench;
import io.ferryhub.bench.mqtt.MqttTelemetryBench;
import io.ferryhub.bench.registry.RegistryBench;
import io.ferryhub.bench.streams.RevocationBench;
import io.ferryhub.bench.streams.StreamSetupThrottlingBench;
import io.ferryhub.bench.streams.StreamsBench;
import io.ferryhub.bench.streams.TunnelsBench;
import io.ferryhub.bench.telemetry.TelemetryProtocolsBench;
import io.ferryhub.bench.throttling.ThrottleOverheadBench;
import io.ferryhub.bench.twins.TwinsBench;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/**
 * Entry point of the launchers {@code scripts/bench-*}: {@code BenchMain <benchmark> [--option value ...]}.
 * Scratch files (data directories, broker configurations, logs) go to a fresh run directory; results to
 * {@code --results-dir} (default {@code bench/results}).
 */
public final class BenchMain {
    private static final Logger log = LoggerFactory.getLogger(BenchMain.class);

    private BenchMain() {
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0) {
            System.err.println("usage: BenchMain mqtt-telemetry|idle-connections|registry|streams|tunnels|revocation|throttle-overhead|twins|telemetry-protocols|eventhubs-reader [--option value]");
            System.exit(2);
        }
        String benchmark = argv[0];
        BenchArgs args = new BenchArgs(Arrays.copyOfRange(argv, 1, argv.length));
        String command = System.getProperty("bench.command", "BenchMain " + String.join(" ", argv));
        Path resultsDir = Path.of(args.string("results-dir", "bench/results"));
        Path runDir = Path.of(args.string("run-dir", "bench/target/runs/" + benchmark + "-"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(ZonedDateTime.now(ZoneOffset.UTC))));
        runDir = runDir.toAbsolutePath();
        Files.createDirectories(runDir);
        log.info("{}: scratch files in {}", benchmark, runDir);
        Path result = switch (benchmark) {
            case "mqtt-telemetry" -> new MqttTelemetryBench(args, command, runDir, resultsDir).run();
            case "idle-connections" -> new IdleConnectionsBench(args, command, runDir, resultsDir).run();
            case "streams" -> new StreamsBench(args, command, runDir, resultsDir).run();
            case "stream-setup-throttling" -> new StreamSetupThrottlingBench(args, command, runDir, resultsDir).run();
            case "tunnels" -> new TunnelsBench(args, command, runDir, resultsDir).run();
            case "revocation" -> new RevocationBench(args, command, runDir, resultsDir).run();
            case "throttle-overhead" -> new ThrottleOverheadBench(args, command, resultsDir).run();
            case "registry" -> new RegistryBench(args, command, runDir, resultsDir).run();
            case "twins" -> new TwinsBench(args, command, runDir, resultsDir).run();
            case "telemetry-protocols" -> new TelemetryProtocolsBench(args, command, runDir, resultsDir).run();
            case "eventhubs-reader" -> new EventHubsReaderBench(args, command, runDir, resultsDir).run();
            default -> throw new IllegalArgumentException("unknown benchmark '" + benchmark + "'");
        };
        if (!args.unknown().isEmpty()) {
            log.warn("options not used by {}: {}", benchmark, args.unknown());
        }
        log.info("done: {}", result);
    }
}
