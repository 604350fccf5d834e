package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.client.tunnel.TunnelConfig;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stream policies enforced by the hub, end to end: a real hub on a clock the test moves, the device proxy (echo and
 * a "secret" TCP target that counts connections) and service proxies, one stream per connection and in tunnel
 * mode. Each kind of denial (initiating policy, stream name, hours, tunnel channel target, channel hours) and the
 * allowed cases; denials are 403 with FerryHub's error code and an audit event in the event stream.
 */
class StreamPolicyTest {
    private static final String DEVICE = "policy-device";
    /** Wednesday 25 November 2026, 10:00 in Paris (UTC+1). */
    private static final Instant WEDNESDAY_MORNING = Instant.parse("2026-11-25T09:00:00Z");
    private static final Instant SATURDAY_MORNING = Instant.parse("2026-11-28T09:00:00Z");
    private static final String POLICY = """
            {"rules": [
              {"name": "operators", "policies": ["service"], "streams": ["echo", "ferryhub.tunnel.v1"],
               "targets": ["echo"],
               "hours": {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "from": "08:00", "to": "18:00",
                         "timeZone": "Europe/Paris"}},
              {"name": "owner", "policies": ["iothubowner"], "streams": ["echo"]}
            ]}""";

    @TempDir
    static Path dataDir;
    static final MovableClock clock = new MovableClock();
    static StreamTestHub hub;
    static DeviceProxy device;
    static CountingTarget secret;

    @BeforeAll
    static void start() throws Exception {
        clock.set(WEDNESDAY_MORNING);
        hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost"), clock);
        secret = new CountingTarget();
        ConnectionString deviceCs = hub.createDevice(DEVICE);
        device = new DeviceProxy(deviceCs, new HubEndpoint(hub.host(), hub.mqttPort(), hub.nettyTls()),
                Map.of("secret", secret.address()), true, hub.nettyTls());
        device.start().get(30, TimeUnit.SECONDS);
        HttpResponse<String> set = hub.owner("PUT", "/ferryhub/devices/" + DEVICE + "/streamPolicy", POLICY,
                Map.of());
        assertEquals(200, set.statusCode(), set.body());
    }

    @AfterAll
    static void stop() throws Exception {
        device.close();
        secret.close();
        hub.close();
    }

    @Test
    void thePolicyIsStoredAndShownAsSet() throws Exception {
        JsonNode shown = Json.parse(hub.owner("GET", "/ferryhub/devices/" + DEVICE + "/streamPolicy", null,
                Map.of()).body());
        assertEquals(Json.parse(POLICY).path("rules").get(0).path("targets"), shown.at("/rules/0/targets"));
        assertEquals("Europe/Paris", shown.at("/rules/0/hours/timeZone").asText());
        assertEquals(List.of("Mon", "Tue", "Wed", "Thu", "Fri"),
                strings(shown.at("/rules/0/hours/days")));
        assertEquals("owner", shown.at("/rules/1/name").asText());
        assertTrue(shown.at("/rules/1/targets").isMissingNode());
    }

    @Test
    void invalidPoliciesAndUnknownIdentitiesAreRefusedWithTheReason() throws Exception {
        HttpResponse<String> badZone = hub.owner("PUT", "/ferryhub/devices/" + DEVICE + "/streamPolicy",
                "{\"rules\":[{\"name\":\"r\",\"hours\":{\"from\":\"08:00\",\"to\":\"18:00\",\"timeZone\":\"Mars/Olympus\"}}]}",
                Map.of());
        assertEquals(400, badZone.statusCode());
        assertEquals(400004, StreamTestHub.errorCode(badZone));
        assertTrue(badZone.body().contains("Mars/Olympus"), badZone.body());
        HttpResponse<String> unknownField = hub.owner("PUT", "/ferryhub/devices/" + DEVICE + "/streamPolicy",
                "{\"rules\":[{\"name\":\"r\",\"port\":22}]}", Map.of());
        assertEquals(400, unknownField.statusCode());
        assertTrue(unknownField.body().contains("unknown field 'port'"), unknownField.body());
        HttpResponse<String> noDevice = hub.owner("PUT", "/ferryhub/devices/nobody/streamPolicy",
                "{\"rules\":[]}", Map.of());
        assertEquals(404001, StreamTestHub.errorCode(noDevice));
        hub.createDevice("unrestricted");
        HttpResponse<String> none = hub.owner("GET", "/ferryhub/devices/unrestricted/streamPolicy", null,
                Map.of());
        assertEquals(404, none.statusCode());
        assertEquals(404901, StreamTestHub.errorCode(none));
        // the policy unchanged by the refused writes
        assertEquals("operators", Json.parse(hub.owner("GET", "/ferryhub/devices/" + DEVICE + "/streamPolicy",
                null, Map.of()).body()).at("/rules/0/name").asText());
    }

    @Test
    void aPolicyNotListedIsDeniedNamingTheRule() throws Exception {
        hub.createDevice("owner-only-device");
        assertEquals(200, hub.owner("PUT", "/ferryhub/devices/owner-only-device/streamPolicy",
                "{\"rules\":[{\"name\":\"owner-only\",\"policies\":[\"iothubowner\"]}]}", Map.of()).statusCode());
        HttpResponse<String> denied = hub.initiate("/twins/owner-only-device/streams/echo",
                hub.serviceToken("service"), "0", "5");
        assertEquals(403, denied.statusCode());
        assertEquals(403901, StreamTestHub.errorCode(denied));
        assertEquals("StreamPolicyInitiatorDenied", denied.headers().firstValue("iothub-errorcode").orElse(""));
        assertTrue(denied.body().contains("rule 'owner-only'") && denied.body().contains("policy 'service'"),
                denied.body());
        JsonNode audit = awaitAudit("owner-only-device", "streamDenied", e -> true);
        assertEquals("policy", audit.path("check").asText());
        assertEquals("owner-only", audit.path("rule").asText());
        assertEquals("service", audit.path("initiator").asText());
        assertEquals(403901, audit.path("errorCode").asInt());
    }

    @Test
    void aModuleHasAPolicyOfItsOwn() throws Exception {
        hub.createModule(DEVICE, "camera");
        String path = "/ferryhub/devices/" + DEVICE + "/modules/camera/streamPolicy";
        assertEquals(200, hub.owner("PUT", path, "{\"rules\":[{\"name\":\"owner-only\","
                + "\"policies\":[\"iothubowner\"]}]}", Map.of()).statusCode());
        HttpResponse<String> denied = hub.initiate("/twins/" + DEVICE + "/modules/camera/streams/echo",
                hub.serviceToken("service"), "0", "5");
        assertEquals(403901, StreamTestHub.errorCode(denied));
        JsonNode audit = awaitAudit(DEVICE, "streamDenied", e -> "camera".equals(e.path("moduleId").asText()));
        assertEquals("owner-only", audit.path("rule").asText());
        HttpResponse<String> ownerGoesOn = hub.initiate("/twins/" + DEVICE + "/modules/camera/streams/echo",
                hub.serviceToken("iothubowner"), "0", "5");
        assertEquals(404103, StreamTestHub.errorCode(ownerGoesOn), "allowed, and then the module is offline");
        assertEquals(404010, StreamTestHub.errorCode(hub.owner("GET", "/ferryhub/devices/" + DEVICE
                + "/modules/nocamera/streamPolicy", null, Map.of())));
    }

    @Test
    void aStreamNameNotListedIsDenied() throws Exception {
        HttpResponse<String> denied = hub.initiate("/twins/" + DEVICE + "/streams/secret",
                hub.serviceToken("service"), "0", "5");
        assertEquals(403, denied.statusCode());
        assertEquals(403902, StreamTestHub.errorCode(denied));
        assertTrue(denied.body().contains("stream name 'secret'"), denied.body());
        assertEquals(0, secret.connections(), "the device was never asked");
        awaitAudit(DEVICE, "streamDenied", e -> e.path("streamName").asText().equals("secret")
                && e.path("check").asText().equals("stream"));
    }

    @Test
    void outsideItsHoursAStreamIsDeniedAndInsideTheyFlow() throws Exception {
        clock.set(SATURDAY_MORNING);
        try {
            HttpResponse<String> denied = hub.initiate("/twins/" + DEVICE + "/streams/echo",
                    hub.serviceToken("service"), "0", "5");
            assertEquals(403, denied.statusCode());
            assertEquals(403904, StreamTestHub.errorCode(denied));
            assertTrue(denied.body().contains("rule 'operators'") && denied.body().contains("outside its hours"),
                    denied.body());
            // the owner's rule has no hours
            try (ServiceProxy owner = serviceProxy("iothubowner", "echo", ServiceProxy.Mode.STREAM_PER_CONNECTION)) {
                echoIntact(owner, 100_000, 1);
            }
        } finally {
            clock.set(WEDNESDAY_MORNING);
        }
        try (ServiceProxy service = serviceProxy("service", "echo", ServiceProxy.Mode.STREAM_PER_CONNECTION)) {
            echoIntact(service, 100_000, 2);
        }
    }

    @Test
    void aTunnelChannelToATargetNotListedIsRefusedByTheGatewayBeforeTheDeviceConnects() throws Exception {
        try (ServiceProxy secretTunnel = serviceProxy("service", "secret", ServiceProxy.Mode.TUNNEL);
             ServiceProxy echoTunnel = serviceProxy("service", "echo", ServiceProxy.Mode.TUNNEL)) {
            assertClosedWithoutData(secretTunnel);
            assertEquals(0, secret.connections(), "the device proxy connected the denied target");
            JsonNode denial = awaitAudit(DEVICE, "channelDenied", e -> e.path("target").asText().equals("secret"));
            assertEquals("service", denial.path("initiator").asText());
            assertTrue(denial.path("reason").asText().startsWith("target: denied by stream policy rule 'operators'"),
                    denial.toString());
            // the allowed target still works through a tunnel session
            echoIntact(echoTunnel, 200_000, 3);
        }
    }

    @Test
    void aTunnelChannelOpenedAfterTheHoursEndIsRefusedWhileTheSessionLasts() throws Exception {
        clock.set(Instant.parse("2026-11-25T16:59:00Z")); // 17:59 in Paris
        try (ServiceProxy tunnel = serviceProxy("service", "echo", ServiceProxy.Mode.TUNNEL)) {
            echoIntact(tunnel, 50_000, 4);
            clock.set(Instant.parse("2026-11-25T17:00:30Z")); // 18:00:30: the session stays, new channels don't
            assertClosedWithoutData(tunnel);
            JsonNode denial = awaitAudit(DEVICE, "channelDenied",
                    e -> e.path("reason").asText().startsWith("hours:"));
            assertEquals("echo", denial.path("target").asText());
        } finally {
            clock.set(WEDNESDAY_MORNING);
        }
    }

    @Test
    void clearingThePolicyAllowsEverythingAgain() throws Exception {
        hub.createDevice("cleared-device");
        String path = "/ferryhub/devices/cleared-device/streamPolicy";
        assertEquals(200, hub.owner("PUT", path, "{\"rules\":[]}", Map.of()).statusCode());
        HttpResponse<String> denied = hub.initiate("/twins/cleared-device/streams/echo",
                hub.serviceToken("service"), "0", "5");
        assertEquals(403902, StreamTestHub.errorCode(denied));
        assertEquals(204, hub.owner("DELETE", path, null, Map.of()).statusCode());
        HttpResponse<String> offline = hub.initiate("/twins/cleared-device/streams/echo",
                hub.serviceToken("service"), "0", "5");
        assertEquals(404103, StreamTestHub.errorCode(offline), "past the policy: the device is simply offline");
    }

    // ---- helpers ----

    private static ServiceProxy serviceProxy(String policy, String stream, ServiceProxy.Mode mode) {
        return new ServiceProxy(hub.policy(policy), URI.create("https://" + hub.host() + ":" + hub.httpsPort()),
                hub.nettyTls(), new ServiceProxy.Target(DEVICE, null, stream, Duration.ZERO, Duration.ofSeconds(30)),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode, TunnelConfig.defaults());
    }

    static void echoIntact(ServiceProxy proxy, int size, long seed) throws Exception {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.localAddress().getPort())) {
            s.setSoTimeout(20_000);
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(data);
                    s.getOutputStream().flush();
                } catch (IOException ignored) {
                    // the read below fails
                }
            });
            writer.start();
            byte[] back = s.getInputStream().readNBytes(size);
            writer.join();
            assertArrayEquals(data, back);
        }
    }

    /** The proxy accepts the local connection and closes it without a byte: the channel was refused. */
    static void assertClosedWithoutData(ServiceProxy proxy) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.localAddress().getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("hello?".getBytes());
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "the refused channel's connection should be closed");
        }
    }

    interface EventMatch {
        boolean test(JsonNode body);
    }

    /** The first stream audit event of {@code deviceId} with this opType whose body matches, waiting up to 10 s. */
    private static JsonNode awaitAudit(String deviceId, String opType, EventMatch match) throws Exception {
        return awaitAudit(hub, deviceId, opType, match);
    }

    static JsonNode awaitAudit(StreamTestHub hub, String deviceId, String opType, EventMatch match)
            throws Exception {
        JsonNode found = Await.value(Duration.ofSeconds(30), () -> {
            for (JsonNode body : hub.streamAuditEvents(deviceId, opType)) {
                if (match.test(body)) {
                    return body;
                }
            }
            return null;
        });
        if (found != null) {
            return found;
        }
        throw new AssertionError("no " + opType + " event for " + deviceId + " matching; have "
                + hub.streamAuditEvents(deviceId, opType));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asText()));
        return out;
    }
}
