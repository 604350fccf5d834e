package io.ferryhub.bench.mqtt;

import io.ferryhub.bench.BenchArgs;

/**
 * The load a telemetry benchmark puts on a hub or broker, read from the same options in every such benchmark: how
 * many devices, how many messages each keeps in flight, how big they are, and for how long.
 */
public record TelemetryLoad(int devices, int window, int payloadBytes, int warmupSeconds, int measureSeconds,
                            int drainSeconds, int loadThreads) {

    public static TelemetryLoad from(BenchArgs args, int defaultDevices) {
        TelemetryLoad load = new TelemetryLoad(
                args.intValue("devices", defaultDevices),
                args.intValue("window", 4),
                args.intValue("payload-bytes", 256),
                args.intValue("warmup-seconds", 5),
                args.intValue("seconds", 20),
                args.intValue("drain-seconds", 15),
                args.intValue("load-threads", 2));
        if (load.payloadBytes < TelemetryPayload.HEADER_BYTES) {
            throw new IllegalArgumentException("--payload-bytes must be at least " + TelemetryPayload.HEADER_BYTES);
        }
        return load;
    }
}
