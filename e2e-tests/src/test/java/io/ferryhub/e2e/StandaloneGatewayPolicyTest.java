package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A stand-alone gateway applies the device's stream policy to tunnel channels from the rules in the stream token
 * alone: it shares no state with the hub but the token key.
 */
class StandaloneGatewayPolicyTest {
    @TempDir
    Path dataDir;

    @Test
    void aTunnelChannelToATargetNotListedIsRefusedByAStandaloneGateway() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        try (CountingTarget secret = new CountingTarget();
             StandaloneGateway gateway = StandaloneGateway.start(new InetSocketAddress("127.0.0.1", 0),
                     SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile()).build(),
                     GatewayConfig.defaults(key));
             StreamTestHub hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                     .withStreamGatewayUrl("wss://localhost:" + gateway.port()))) {
            DeviceProxy device = new DeviceProxy(hub.createDevice("far-policy-device"),
                    new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()),
                    Map.of("secret", secret.address()), true,
                    hub.nettyTls());
            device.start().get(30, TimeUnit.SECONDS);
            assertEquals(200, hub.owner("PUT", "/ferryhub/devices/far-policy-device/streamPolicy",
                    "{\"rules\":[{\"name\":\"echo-only\",\"targets\":[\"echo\"]}]}", Map.of()).statusCode());
            try (ServiceProxy secretTunnel = tunnel(hub, "secret");
                 ServiceProxy echoTunnel = tunnel(hub, "echo")) {
                StreamPolicyTest.assertClosedWithoutData(secretTunnel);
                StreamPolicyTest.echoIntact(echoTunnel, 100_000, 6);
                assertEquals(0, secret.connections(), "the device proxy connected the denied target");
                assertEquals(0, hub.hub.streamGateway().openCount(), "the hub's embedded gateway relays nothing");
            } finally {
                device.close();
            }
        }
    }

    private static ServiceProxy tunnel(StreamTestHub hub, String target) {
        return new ServiceProxy(hub.policy("service"), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target("far-policy-device", null, target, Duration.ZERO,
                Duration.ofSeconds(30)), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ServiceProxy.Mode.TUNNEL, TunnelConfig.defaults());
    }
}
