package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.mqtt.MqttTransport;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import com.fasterxml.jackson.databind.JsonNode;

import io.ferryhub.testsupport.Await;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A device proxy and a service proxy for one device of a test hub, as a user would run them. */
final class Proxies implements AutoCloseable {
    final DeviceProxy device;
    final ServiceProxy service;
    private final StreamTestHub hub;

    Proxies(StreamTestHub hub, String deviceId, String streamName, Map<String, InetSocketAddress> targets,
            boolean echo) throws Exception {
        this(hub, deviceId, streamName, targets, echo, MqttTransport.MQTT, ServiceProxy.Mode.STREAM_PER_CONNECTION,
                Duration.ZERO);
    }

    /**
     * @param transport      how the device proxy reaches the hub
     * @param connectTimeout how long the hub waits for the device to be online for each stream request
     */
    Proxies(StreamTestHub hub, String deviceId, String streamName, Map<String, InetSocketAddress> targets,
            boolean echo, MqttTransport transport, ServiceProxy.Mode mode, Duration connectTimeout) throws Exception {
        this.hub = hub;
        ConnectionString deviceCs = hub.createDevice(deviceId);
        device = new DeviceProxy(deviceCs, new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls())
                .withTransport(transport, hub.httpsPort()), targets, echo, hub.nettyTls());
        device.start().get(30, TimeUnit.SECONDS);
        service = new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target(deviceId, null, streamName, connectTimeout,
                Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode,
                TunnelConfig.defaults());
    }

    int port() {
        return service.localAddress().getPort();
    }

    /** The hub's list of open streams, through its REST API. */
    JsonNode hubStreams() throws Exception {
        return Json.parse(hub.owner("GET", "/streams", null, Map.of()).body());
    }

    /** Waits until nothing is relayed any more, anywhere: both proxies and the hub's gateway. */
    void awaitIdle() throws Exception {
        await(() -> device.activeStreams() == 0 && service.activeStreams() == 0, "proxies still relaying");
        await(() -> {
            try {
                return hubStreams().isEmpty();
            } catch (Exception e) {
                return false;
            }
        }, "the hub still lists streams");
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        await(condition, what, Duration.ofSeconds(30));
    }

    static void await(BooleanSupplier condition, String what, Duration limit) throws InterruptedException {
        Await.until(what, limit, condition::getAsBoolean);
    }

    @Override
    public void close() {
        service.close();
        device.close();
    }
}
