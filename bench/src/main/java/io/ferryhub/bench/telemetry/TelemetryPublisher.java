package io.ferryhub.bench.telemetry;

import io.ferryhub.bench.mqtt.TelemetryStats;

/** One connected simulated device, whatever its protocol, publishing telemetry with a window in flight. */
interface TelemetryPublisher extends AutoCloseable {
    void startPublishing(TelemetryStats stats, int payloadBytes, int window);

    void stopPublishing();

    @Override
    void close();
}
