package io.ferryhub.bench.mqtt;

import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.process.MosquittoBroker;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.bench.tls.BenchClientTls;
import io.netty.channel.EventLoopGroup;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/**
 * Mosquitto as the baseline. Devices send the same CONNECT as to the hub (IoT Hub user name, a SAS token of the same
 * length as password, which Mosquitto accepts without checking) and publish on the same topics; a subscriber on
 * {@code devices/+/messages/events/#} is the read path.
 */
final class MosquittoTarget implements TelemetryTarget {
    private static final String HOST = "localhost";

    private final MosquittoBroker broker;
    private final EventLoopGroup group;
    private final String key;

    MosquittoTarget(Path runDir, EventLoopGroup group) throws Exception {
        this.broker = MosquittoBroker.start(runDir);
        this.group = group;
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        this.key = Base64.getEncoder().encodeToString(raw);
    }

    @Override
    public String name() {
        return "mosquitto";
    }

    @Override
    public InetSocketAddress mqttAddress() {
        return new InetSocketAddress("127.0.0.1", broker.port());
    }

    @Override
    public String tlsHost() {
        return HOST;
    }

    @Override
    public Path caCertificate() {
        return broker.caCertificate();
    }

    @Override
    public void provision(int count) {
        // Mosquitto has no registry: any client id connects
    }

    @Override
    public DeviceCredentials device(int index) {
        String id = TelemetryDevices.deviceId(index);
        return new DeviceCredentials(id, HOST + "/" + id + "/?api-version=2021-04-12",
                SasToken.create(HOST + "/devices/" + id, key, null, Instant.now().plus(Duration.ofHours(2))),
                TelemetryDevices.telemetryTopic(id));
    }

    @Override
    public AutoCloseable startReader(TelemetryStats stats) throws Exception {
        return MqttSubscriberReader.start(group, BenchClientTls.trusting(caCertificate()), HOST, mqttAddress(),
                TelemetryDevices.ALL_TELEMETRY, stats);
    }

    @Override
    public ChildProcess process() {
        return broker.process();
    }

    @Override
    public String readPath() {
        return "MQTT subscriber, QoS 1, devices/+/messages/events/#";
    }

    @Override
    public void close() {
        broker.close();
    }
}
