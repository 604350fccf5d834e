package io.ferryhub.e2e;

import io.ferryhub.common.ipfilter.IpFilterRule;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.common.tls.ClientTls;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.RevocationFeed;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.testsupport.Await;
import io.ferryhub.testsupport.BoundClient;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A stand-alone streaming gateway filters its connections with the hub's IP filter, learnt over the revocation
 * feed: a rule added at the hub closes the gateway's open connections from the address and refuses new ones before
 * TLS, others still reach the gateway; deleting the rule lets the address in again. IPv4 (127.0.0.2 against
 * 127.0.0.1) and IPv6 (::1).
 */
@Timeout(180)
class StandaloneGatewayIpFilterTest {
    private static final String HOST = "127.0.0.1";
    private static final String OTHER_HOST = "127.0.0.2";

    @TempDir
    Path dataDir;

    @Test
    void theGatewayAppliesTheHubsRules() throws Exception {
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        // every interface, so that ::1 reaches it too
        try (StandaloneGateway gateway = StandaloneGateway.start(new InetSocketAddress(0),
                SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile()).build(),
                GatewayConfig.defaults(key));
             StreamTestHub testHub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                     .withStreamGatewayUrl("wss://localhost:" + gateway.port()))) {
            HubServer hub = testHub.hub;
            RevocationFeed feed = gateway.followRevocations(URI.create("https://localhost:" + hub.httpsPort()),
                    ClientTls.trusting(hub.caCertificatePath()));
            Await.until("the gateway follows the hub's feed", feed::isConnected);
            SSLContext trust = testHub.jdkTls;
            int port = gateway.port();

            try (SSLSocket open = BoundClient.tls(trust, OTHER_HOST, HOST, port)) {
                hub.ipFilter().add(IpFilterRule.of("other-host", "Reject", "127.0.0.2/32"), null);
                Await.until("the gateway has the hub's rule", () -> !gateway.ipFilter().rules().isEmpty());
                BoundClient.assertClosedByServer(open);
            }
            BoundClient.assertRefusedBeforeTls(trust, OTHER_HOST, HOST, port);
            try (SSLSocket mine = BoundClient.tls(trust, HOST, HOST, port)) {
                assertTrue(BoundClient.upgrade(mine, "/bridges/no-such-stream", null).startsWith("HTTP/1.1 401"),
                        "the gateway answers an accepted address");
            }
            String metrics = gateway.gateway().metrics().scrape();
            assertTrue(metrics.contains("ferryhub_connections_rejected_total{reason=\"ip_filter\",when=\"rule_change\"} 1"),
                    metrics);

            hub.ipFilter().delete("other-host");
            Await.until("the gateway dropped the rule", () -> gateway.ipFilter().rules().isEmpty());
            try (SSLSocket again = BoundClient.tls(trust, OTHER_HOST, HOST, port)) {
                assertTrue(BoundClient.upgrade(again, "/bridges/x", null).startsWith("HTTP/1.1 401"));
            }

            assumeTrue(BoundClient.hasIpv6Loopback(), "IPv6 loopback ::1 is not configured on this machine: the "
                    + "gateway's IPv6 filter part cannot run");
            hub.ipFilter().replace(IpFilterRules.of(List.of(IpFilterRule.of("no-v6", "Reject", "::1/128"))));
            Await.until("the gateway has the IPv6 rule", () -> !gateway.ipFilter().rules().isEmpty());
            BoundClient.assertRefusedBeforeTls(trust, "::1", "::1", port);
            try (SSLSocket v4 = BoundClient.tls(trust, HOST, HOST, port)) {
                assertTrue(BoundClient.upgrade(v4, "/bridges/x", null).startsWith("HTTP/1.1 401"));
            }
        }
    }
}
