package io.ferryhub.bench.mqtt;

import io.ferryhub.bench.hub.DeviceRegistrar;
import io.ferryhub.bench.hub.HubEventReader;
import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.bench.process.ChildProcess;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.common.sas.SasToken;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hub as a child process with a fresh data directory. Devices are registered through the REST API with an
 * iothubowner token and connect with SAS tokens signed with their own keys; telemetry is read back through the
 * event stream's REST long-poll.
 */
public final class HubTelemetryTarget implements TelemetryTarget {
    private static final Logger log = LoggerFactory.getLogger(HubTelemetryTarget.class);
    private static final int REGISTRATION_CONCURRENCY = 32;

    private final String name;
    private final HubProcess hub;
    private final EventLoopGroup restGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final HubRestClient rest;
    private String[] keys = new String[0];

    public HubTelemetryTarget(String name, HubProcess.Launcher launcher, Path dir, boolean fsync) throws Exception {
        this(name, launcher, dir, fsync, List.of());
    }

    /** @param hubOptions further {@code iothub start} options (e.g. throttles) */
    public HubTelemetryTarget(String name, HubProcess.Launcher launcher, Path dir, boolean fsync,
                              List<String> hubOptions) throws Exception {
        this.name = name;
        this.hub = HubProcess.start(launcher, dir.resolve("data"), fsync, hubOptions, dir.resolve("hub.log"),
                Duration.ofSeconds(60));
        this.rest = new HubRestClient(hub, restGroup);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public InetSocketAddress mqttAddress() {
        return new InetSocketAddress("127.0.0.1", hub.mqttPort());
    }

    @Override
    public String tlsHost() {
        return hub.hostName();
    }

    @Override
    public Path caCertificate() {
        return hub.caCertificate();
    }

    @Override
    public void provision(int count) throws Exception {
        keys = new String[count];
        long start = System.nanoTime();
        new DeviceRegistrar(rest, REGISTRATION_CONCURRENCY).register(0, count, TelemetryDevices::deviceId,
                (index, key) -> keys[index] = key, Duration.ofMinutes(10),
                done -> log.info("registered {} of {} devices", done, count));
        log.info("{} devices registered in {} ms", count, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    @Override
    public DeviceCredentials device(int index) {
        String id = TelemetryDevices.deviceId(index);
        String token = SasToken.create(hub.hostName() + "/devices/" + id, keys[index], null,
                Instant.now().plus(Duration.ofHours(2)));
        return new DeviceCredentials(id, TelemetryDevices.userName(hub.hostName(), id), token,
                TelemetryDevices.telemetryTopic(id));
    }

    @Override
    public AutoCloseable startReader(TelemetryStats stats) throws Exception {
        int partitions = HubEventReader.partitionCount(rest);
        HubEventReader reader = HubEventReader.start(rest, partitions,
                (body, readNanos) -> stats.onRead(TelemetryPayload.sentNanos(body), readNanos));
        // let every partition's first poll fix its start position before devices publish
        Thread.sleep(500);
        return reader;
    }

    /** The hub process, for the ports of its other protocols. */
    public HubProcess hub() {
        return hub;
    }

    @Override
    public ChildProcess process() {
        return hub.process();
    }

    @Override
    public String readPath() {
        return "REST long-poll GET /messages/events/partitions/{p}, one loop per partition";
    }

    @Override
    public void close() {
        rest.close();
        restGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        hub.close();
    }
}
