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
 * the device's connection string and one mapped target, service-proxy with a service connection string listening on
 * a local port. Connection strings are passed in the environment, not on the command line.
 */
public final class StreamProxies implements AutoCloseable {
    private static final Pattern DEVICE_CONNECTED = Pattern.compile("connected to .*waiting for stream requests");

    private final ChildProcess deviceProxy;
    private final ChildProcess serviceProxy;
    private final int listenPort;

    private StreamProxies(ChildProcess deviceProxy, ChildProcess serviceProxy, int listenPort) {
        this.deviceProxy = deviceProxy;
        this.serviceProxy = serviceProxy;
        this.listenPort = listenPort;
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
        ChildProcess serviceProxy = null;
        try {
            deviceProxy.awaitLogLine(DEVICE_CONNECTED, Duration.ofSeconds(30));
            int listen = ChildProcess.freePort();
            List<String> service = new ArrayList<>(List.of(java));
            service.addAll(jvmOptions);
            service.addAll(List.of("-cp", classPath, "io.ferryhub.serviceproxy.ServiceProxyMain",
                    "--ca", hub.caCertificate().toString(),
                    "--hub-port", Integer.toString(hub.httpsPort()),
                    "--device", deviceIdOf(deviceConnectionString),
                    "--stream", streamName,
                    "--listen", "127.0.0.1:" + listen,
                    "--connect-timeout", "10"));
            serviceProxy = ChildProcess.start("service-proxy", service,
                    Map.of("FERRYHUB_SERVICE_CONNECTION_STRING", serviceConnectionString), dir,
                    dir.resolve("service-proxy.log"));
            serviceProxy.awaitPort(listen, Duration.ofSeconds(30));
            return new StreamProxies(deviceProxy, serviceProxy, listen);
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (serviceProxy != null) {
                serviceProxy.close();
            }
            deviceProxy.close();
            throw e;
        }
    }

    private static String deviceIdOf(String connectionString) {
        for (String part : connectionString.split(";")) {
            if (part.startsWith("DeviceId=")) {
                return part.substring("DeviceId=".length());
            }
        }
        throw new IllegalArgumentException("no DeviceId in the device connection string");
    }

    /** Where clients connect: the service proxy's local port; each connection gets its own stream. */
    public int listenPort() {
        return listenPort;
    }

    public ChildProcess deviceProxy() {
        return deviceProxy;
    }

    public ChildProcess serviceProxy() {
        return serviceProxy;
    }

    @Override
    public void close() {
        serviceProxy.close();
        deviceProxy.close();
    }
}
