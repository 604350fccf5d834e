package io.ferryhub.bench.process;

import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.common.sas.ConnectionString;
import io.netty.channel.EventLoopGroup;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Everything a stream path through the hub needs, started in order: a hub child process, one device registered on
 * it, and that device's proxies ({@link StreamProxies}) serving one stream name that leads to a target port.
 */
public final class StreamRig implements AutoCloseable {
    private final HubProcess hub;
    private final StreamProxies proxies;

    private StreamRig(HubProcess hub, StreamProxies proxies) {
        this.hub = hub;
        this.proxies = proxies;
    }

    /**
     * @param hubOptions extra {@code iothub start} options
     * @param proxyJvm   JVM options of the proxies
     */
    public static StreamRig start(HubProcess.Launcher launcher, Path runDir, List<String> hubOptions,
                                  List<String> proxyJvm, EventLoopGroup group, String deviceId, String streamName,
                                  int targetPort) throws Exception {
        HubProcess hub = HubProcess.start(launcher, runDir.resolve("hub/data"), true, hubOptions,
                runDir.resolve("hub/hub.log"), Duration.ofSeconds(60));
        try {
            String deviceKey;
            try (HubRestClient rest = new HubRestClient(hub, group)) {
                deviceKey = rest.createDevice(deviceId).get(30, TimeUnit.SECONDS);
            }
            String device = ConnectionString.forDevice(hub.hostName(), deviceId, null, deviceKey).toString();
            return new StreamRig(hub, StreamProxies.start(runDir.resolve("proxies"), launcher.libDir(), proxyJvm,
                    hub, device, hub.ownerConnectionString().toString(), streamName, targetPort));
        } catch (Exception e) {
            hub.close();
            throw e;
        }
    }

    public HubProcess hub() {
        return hub;
    }

    public StreamProxies proxies() {
        return proxies;
    }

    @Override
    public void close() {
        proxies.close();
        hub.close();
    }
}
