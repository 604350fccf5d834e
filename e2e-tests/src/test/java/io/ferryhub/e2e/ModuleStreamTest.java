package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A stream to a module (IoT Hub never offered these): the device proxy runs as the module, the service proxy names it. */
class ModuleStreamTest {
    @TempDir
    Path dataDir;

    @Test
    void aModuleServesStreams() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir)) {
            hub.createDevice("gateway-box");
            ConnectionString module = hub.createModule("gateway-box", "tunnel");
            try (DeviceProxy moduleProxy = new DeviceProxy(module, new HubEndpoint(hub.host(), hub.mqttPort(),
                    hub.nettyTls()), Map.of(), true, hub.nettyTls());
                 ServiceProxy serviceProxy = new ServiceProxy(hub.policy("service"),
                         URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                         new ServiceProxy.Target("gateway-box", "tunnel", "echo", Duration.ZERO,
                                 Duration.ofSeconds(30)),
                         new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                moduleProxy.start().get(30, TimeUnit.SECONDS);
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                        serviceProxy.localAddress().getPort())) {
                    socket.setSoTimeout(20_000);
                    byte[] hello = "to the module".getBytes(StandardCharsets.US_ASCII);
                    socket.getOutputStream().write(hello);
                    assertArrayEquals(hello, socket.getInputStream().readNBytes(hello.length));
                }
            }
        }
    }
}
