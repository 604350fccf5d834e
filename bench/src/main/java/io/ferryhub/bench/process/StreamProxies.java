package io.ferryhub.bench.process;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The two ends of a device stream as a user runs them, each in its own JVM from the hub's build: device-proxy with
 * the device's connection string and one mapped target, and two service-proxies with a service connection string,
 * each listening on a local port: one with {@code --no-tunnel} (one device stream per connection, IoT Hub's
 * protocol) and one in its default mode (connections multiplexed over one tunnel session). Connection strings are
 * passed in the environment, not on the command line.
 */
public final class StreamProxies implements AutoCloseable {
    private static final Pattern DEVICE_CONNECTED = Pattern.compile("connected over .*waiting for stream requests");

    private final ChildProcess deviceProxy;
    private final ChildProcess serviceProxy;
    private final int listenPort;
    private final ChildProcess tunnelServiceProxy;
    private final int tunnelListenPort;

    private StreamProxies(ChildProcess deviceProxy, ChildProcess serviceProxy, int listenPort,
                          ChildProcess tunnelServiceProxy, int tunnelListenPort) {
        this.deviceProxy = deviceProxy;
        this.serviceProxy = serviceProxy;
        this.listenPort = listenPort;
        this.tunnelServiceProxy = tunnelServiceProxy;
        this.tunnelListenPort = tunnelListenPort;
    }

    /**
     * @param libDir     the directory of the hub's jars ({@code cli/target/lib}: the proxies are in it)
     * @param streamName the stream name mapped to {@code targetPort} on the device side
     */
    public static StreamProxies start(Path dir, Path libDir, List<String> jvmOptions, HubProcess hub,
                                      String deviceConnectionString, String serviceConnectionString,
                                      String streamName, int targetPort) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = libDir.toAbsolutePath() + "/*";
        List<String> device = new ArrayList<>(List.of(java));
        device.addAll(jvmOptions);
        device.addAll(List.of("-cp", classPath, "io.ferryhub.deviceproxy.DeviceProxyMain",
                "--ca", hub.caCertificate().toString(),
                "--mqtt-port", Integer.toString(hub.mqttPort()),
                "--map", streamName + "=127.0.0.1:" + targetPort));
        ChildProcess deviceProxy = ChildProcess.start("device-proxy", device,
                Map.of("FERRYHUB_DEVICE_CONNECTION_STRING", deviceConnectionString), dir,
                dir.resolve("device-proxy.log"));
        List<ChildProcess> started = new ArrayList<>(List.of(deviceProxy));
        try {
            deviceProxy.awaitLogLine(DEVICE_CONNECTED, Duration.ofSeconds(30));
            int listen = ChildProcess.freePort();
            started.add(startServiceProxy("service-proxy", dir, java, classPath, jvmOptions, hub,
                    deviceConnectionString, serviceConnectionString, streamName, listen, false));
            int tunnelListen = ChildProcess.freePort();
            started.add(startServiceProxy("service-proxy-tunnel", dir, java, classPath, jvmOptions, hub,
                    deviceConnectionString, serviceConnectionString, streamName, tunnelListen, true));
            started.get(1).awaitPort(listen, Duration.ofSeconds(30));
            started.get(2).awaitPort(tunnelListen, Duration.ofSeconds(30));
            return new StreamProxies(deviceProxy, started.get(1), listen, started.get(2), tunnelListen);
        } catch (IOException | InterruptedException | RuntimeException e) {
            started.forEach(ChildProcess::close);
            throw e;
        }
    }

    private static ChildProcess startServiceProxy(String name, Path dir, String java, String classPath,
                                                  List<String> jvmOptions, HubProcess hub,
                                                  String deviceConnectionString, String serviceConnectionString,
                                                  String streamName, int listen, boolean tunnel) throws IOException {
        List<String> service = new ArrayList<>(List.of(java));
        service.addAll(jvmOptions);
        service.addAll(List.of("-cp", classPath, "io.ferryhub.serviceproxy.ServiceProxyMain",
                "--ca", hub.caCertificate().toString(),
                "--hub-port", Integer.toString(hub.httpsPort()),
                "--device", deviceIdOf(deviceConnectionString),
                "--stream", streamName,
                "--listen", "127.0.0.1:" + listen,
                "--connect-timeout", "10"));
        if (!tunnel) {
            service.add("--no-tunnel");
        }
        return ChildProcess.start(name, service, Map.of("FERRYHUB_SERVICE_CONNECTION_STRING",
                serviceConnectionString), dir, dir.resolve(name + ".log"));
    }

    private static String deviceIdOf(String connectionString) {
        for (String part : connectionString.split(";")) {
            if (part.startsWith("DeviceId=")) {
                return part.substring("DeviceId=".length());
            }
        }
        throw new IllegalArgumentException("no DeviceId in the device connection string");
    }

    /** Where clients connect for one device stream per connection. */
    public int listenPort() {
        return listenPort;
    }

    /** Where clients connect for channels of one multiplexed tunnel session. */
    public int tunnelListenPort() {
        return tunnelListenPort;
    }

    public ChildProcess tunnelServiceProxy() {
        return tunnelServiceProxy;
    }

    public ChildProcess deviceProxy() {
        return deviceProxy;
    }

    public ChildProcess serviceProxy() {
        return serviceProxy;
    }

    @Override
    public void close() {
        tunnelServiceProxy.close();
        serviceProxy.close();
        deviceProxy.close();
    }
}
