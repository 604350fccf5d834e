package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.ipfilter.IpFilterRule;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.HubTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;

import static io.ferryhub.hub.server.FilteredPeer.amqpHeader;
import static io.ferryhub.testsupport.BoundClient.assertClosedByServer;
import static io.ferryhub.hub.server.FilteredPeer.assertRefusedBeforeTls;
import static io.ferryhub.hub.server.FilteredPeer.mqttConnect;
import static io.ferryhub.hub.server.FilteredPeer.mqttPing;
import static io.ferryhub.hub.server.FilteredPeer.tls;
import static io.ferryhub.testsupport.BoundClient.upgrade;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The IP filter on every listener of the hub, with real sockets: 127.0.0.2 plays another host than 127.0.0.1 (all of
 * 127.0.0.0/8 is loopback on Linux), ::1 the IPv6 peer. A refused address is closed before TLS; an accepted one
 * speaks its protocol (MQTT CONNECT, the AMQP header, WebSocket upgrades for MQTT, AMQP and device streams, REST).
 */
@Timeout(180)
class IpFilterTest {
    private static final String HOST = "127.0.0.1";
    private static final String OTHER_HOST = "127.0.0.2";

    @TempDir
    Path dataDir;

    @Test
    void everyListenerClosesARejectedAddressBeforeTlsAndServesTheOthers() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            String key = HubTestSupport.register(hub, "filtered-device");
            hub.ipFilter().add(IpFilterRule.of("other-host", "Reject", "127.0.0.2/32"), null);
            Path ca = hub.caCertificatePath();
            Map<String, Integer> ports = hub.boundPorts();
            assertEquals(List.of("https", "mqtt", "amqp"), List.copyOf(ports.keySet()));
            for (int port : ports.values()) {
                // HTTPS carries REST, MQTT and AMQP over WebSockets and the embedded streaming gateway
                assertRefusedBeforeTls(ca, OTHER_HOST, HOST, port);
            }

            try (SSLSocket mqtt = tls(ca, HOST, HOST, hub.mqttPort())) {
                assertEquals(0, mqttConnect(mqtt, hub, "filtered-device", key));
                mqttPing(mqtt);
            }
            try (SSLSocket amqp = tls(ca, HOST, HOST, hub.amqpPort())) {
                assertArrayEquals(new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0}, amqpHeader(amqp));
            }
            try (SSLSocket ws = tls(ca, HOST, HOST, hub.httpsPort())) {
                assertTrue(upgrade(ws, "/$iothub/websocket", "mqtt").startsWith("HTTP/1.1 101"), "MQTT over WS");
            }
            try (SSLSocket ws = tls(ca, HOST, HOST, hub.httpsPort())) {
                assertTrue(upgrade(ws, "/$iothub/websocket", "AMQPWSB10").startsWith("HTTP/1.1 101"),
                        "AMQP over WS");
            }
            try (SSLSocket ws = tls(ca, HOST, HOST, hub.httpsPort())) {
                // the embedded gateway answers (no token: 401) rather than the connection being cut
                assertTrue(upgrade(ws, "/bridges/no-such-stream", null).startsWith("HTTP/1.1 401"),
                        "embedded streaming gateway");
            }
            try (SSLSocket rest = tls(ca, HOST, HOST, hub.httpsPort())) {
                assertTrue(io.ferryhub.testsupport.BoundClient.get(rest, "/ferryhub/ipFilter?api-version=2021-04-12",
                        HubTestSupport.ownerToken(hub)).startsWith("HTTP/1.1 200"), "REST");
            }
            String metrics = hub.metrics().scrape();
            // each refused port: one plain connection and one TLS attempt
            assertTrue(metrics.contains("ferryhub_connections_rejected_total{reason=\"ip_filter\",when=\"connect\"} 6"),
                    metrics);
        }
    }

    @Test
    void aNewRuleClosesOpenConnectionsFromTheAddressesItRejects() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            String otherKey = HubTestSupport.register(hub, "on-other-host");
            String key = HubTestSupport.register(hub, "on-this-host");
            Path ca = hub.caCertificatePath();
            try (SSLSocket other = tls(ca, OTHER_HOST, HOST, hub.mqttPort());
                 SSLSocket other2 = tls(ca, OTHER_HOST, HOST, hub.httpsPort());
                 SSLSocket mine = tls(ca, HOST, HOST, hub.mqttPort())) {
                assertEquals(0, mqttConnect(other, hub, "on-other-host", otherKey));
                assertEquals(0, mqttConnect(mine, hub, "on-this-host", key));

                hub.ipFilter().add(IpFilterRule.of("other-host", "Reject", "127.0.0.2"), null);

                assertClosedByServer(other);
                assertClosedByServer(other2);
                mqttPing(mine);
                assertTrue(hub.metrics().scrape().contains(
                        "ferryhub_connections_rejected_total{reason=\"ip_filter\",when=\"rule_change\"} 2"));
            }
        }
    }

    @Test
    void ipv6RulesMatchIpv6Peers() throws Exception {
        assumeTrue(io.ferryhub.testsupport.BoundClient.hasIpv6Loopback(), "IPv6 loopback ::1 is not configured on this machine: the IPv6 filter test "
                + "cannot run");
        // every interface, IPv4 and IPv6
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir).withBindAddress(null))) {
            String key = HubTestSupport.register(hub, "v6-device");
            Path ca = hub.caCertificatePath();
            try (SSLSocket v6 = tls(ca, "::1", "::1", hub.mqttPort())) {
                assertEquals(0, mqttConnect(v6, hub, "v6-device", key), "no rule yet: ::1 connects");
            }
            hub.ipFilter().replace(IpFilterRules.of(List.of(IpFilterRule.of("no-v6-loopback", "Reject", "::1/128"))));
            for (int port : hub.boundPorts().values()) {
                assertRefusedBeforeTls(ca, "::1", "::1", port);
            }
            try (SSLSocket v4 = tls(ca, HOST, HOST, hub.mqttPort())) {
                assertEquals(0, mqttConnect(v4, hub, "v6-device", key), "IPv4 is not held by an IPv6 rule");
            }
            // the other way round: only ::1 may connect
            hub.ipFilter().replace(IpFilterRules.of(List.of(IpFilterRule.of("v6-loopback", "Accept", "::1"),
                    IpFilterRule.of("v6-rest", "Reject", "::/0"), IpFilterRule.of("v4", "Reject", "0.0.0.0/0"))));
            assertRefusedBeforeTls(ca, HOST, HOST, hub.amqpPort());
            try (SSLSocket v6 = tls(ca, "::1", "::1", hub.amqpPort())) {
                assertArrayEquals(new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0}, amqpHeader(v6));
            }
        }
    }

    @Test
    void rulesSurviveARestartAndApplyToTheFirstConnection() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            assertEquals(200, rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"other-host\","
                    + "\"action\":\"Reject\",\"ipMask\":\"127.0.0.2/32\"}").status());
            assertEquals(200, rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"first\","
                    + "\"action\":\"Accept\",\"ipMask\":\"10.0.0.0/8\",\"position\":0}").status());
        }
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            assertRefusedBeforeTls(hub.caCertificatePath(), OTHER_HOST, HOST, hub.mqttPort());
            JsonNode rules = new RestClient(hub).owner("GET", "/ferryhub/ipFilter", null).json();
            assertEquals(Json.parse("{\"ipFilterRules\":[{\"filterName\":\"first\",\"action\":\"Accept\","
                    + "\"ipMask\":\"10.0.0.0/8\"},{\"filterName\":\"other-host\",\"action\":\"Reject\","
                    + "\"ipMask\":\"127.0.0.2/32\"}]}"), rules);
        }
    }

    @Test
    void badChangesAreRefusedWholeWithIotHubErrors() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            String good = "{\"filterName\":\"office\",\"action\":\"Accept\",\"ipMask\":\"192.168.100.0/22\"}";
            assertEquals(200, rest.owner("POST", "/ferryhub/ipFilter/rules", good).status());
            JsonNode before = rest.owner("GET", "/ferryhub/ipFilter", null).json();

            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"x\",\"action\":\"Reject\","
                    + "\"ipMask\":\"10.0.0.300/8\"}"), 400004, "not an IPv4 or IPv6 address");
            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"x\",\"action\":\"Reject\","
                    + "\"ipMask\":\"10.0.0.0/33\"}"), 400004, "out of range");
            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", good.replace("office", "OFFICE")), 400004,
                    "exists already");
            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"x\",\"action\":\"Block\","
                    + "\"ipMask\":\"::1\"}"), 400004, "Accept or Reject");
            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", "{\"filterName\":\"x\",\"action\":\"Reject\","
                    + "\"ipMask\":\"::1\",\"position\":-1}"), 400004, "position");
            assertBad(rest.owner("POST", "/ferryhub/ipFilter/rules", "not json"), 400006, "not valid JSON");
            RestClient.Reply missing = rest.owner("DELETE", "/ferryhub/ipFilter/rules/nope", null);
            assertEquals(404, missing.status());
            assertEquals(404903, missing.errorCode());
            // a bulk set with one bad rule changes nothing
            assertBad(rest.owner("PUT", "/ferryhub/ipFilter", "{\"ipFilterRules\":[{\"filterName\":\"a\","
                    + "\"action\":\"Reject\",\"ipMask\":\"0.0.0.0/0\"},{\"filterName\":\"b\",\"action\":\"Reject\","
                    + "\"ipMask\":\"fe80::/200\"}]}"), 400004, "rule 2");
            assertEquals(before, rest.owner("GET", "/ferryhub/ipFilter", null).json());

            // only a caller with every permission (registry read and write are not enough) reads or changes it
            var service = hub.policies().find("registryReadWrite").orElseThrow();
            String serviceToken = io.ferryhub.common.sas.SasToken.create(hub.hostName(), service.primaryKey(),
                    "registryReadWrite", java.time.Instant.now().plusSeconds(600));
            RestClient.Reply refused = rest.send("GET", "/ferryhub/ipFilter?api-version=2021-04-12", null,
                    Map.of("Authorization", serviceToken));
            assertEquals(401, refused.status());

            // a rule names with IoT Hub's odd characters is deleted by its name
            String odd = "{\"filterName\":\"lab/1#(a)\",\"action\":\"Reject\",\"ipMask\":\"::1\"}";
            assertEquals(200, rest.owner("POST", "/ferryhub/ipFilter/rules", odd).status());
            assertEquals(200, rest.owner("DELETE", "/ferryhub/ipFilter/rules/"
                    + io.ferryhub.common.sas.PercentEncoding.encode("lab/1#(a)"), null).status());
            assertEquals(before, rest.owner("GET", "/ferryhub/ipFilter", null).json());
        }
    }

    private static void assertBad(RestClient.Reply reply, int errorCode, String text) {
        assertEquals(errorCode / 1000, reply.status(), reply.body());
        assertEquals(errorCode, reply.errorCode(), reply.body());
        assertTrue(reply.body().contains(text), reply.body());
    }
}
