package io.ferryhub.bench.mqtt;

import io.ferryhub.bench.process.ChildProcess;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/** A broker the telemetry load is run against: the hub or Mosquitto, started as a child process. */
interface TelemetryTarget extends AutoCloseable {
    /** The name of this configuration in the report, e.g. {@code hub-fsync-on}. */
    String name();

    InetSocketAddress mqttAddress();

    /** The name the broker's certificate is checked against. */
    String tlsHost();

    Path caCertificate();

    /** Makes {@code count} devices known to the broker (the hub: registered through its REST API). */
    void provision(int count) throws Exception;

    /** The credentials of provisioned device {@code index}. */
    DeviceCredentials device(int index);

    /** Starts reading the telemetry back through the broker's read path, reporting each message to {@code stats}. */
    AutoCloseable startReader(TelemetryStats stats) throws Exception;

    ChildProcess process();

    /** The broker's read path, for the report. */
    String readPath();

    @Override
    void close();
}
