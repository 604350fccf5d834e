package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.tls.ClientTls;
import io.ferryhub.gateway.GatewayConfig;
import io.ferryhub.gateway.RevocationFeed;
import io.ferryhub.gateway.StandaloneGateway;
import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.gateway.StreamTokenKeyFile;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RevocationScenarios} through a stand-alone gateway that follows the hub's revocation feed (the hub pushes
 * revocations over one WebSocket authenticated with the shared stream token key); and the feed's outage: the
 * gateway keeps serving its streams, and applies what it missed, by sequence number, once the hub is back.
 */
class StandaloneRevocationTest extends RevocationScenarios {
    @TempDir
    static Path dataDir;
    @TempDir
    static Path sshDir;
    static StreamTestHub hub;
    static OpenSshd sshd;
    static StandaloneGateway standalone;
    static TcpForwarder toHub;
    static RevocationFeed feed;
    static final List<ObjectNode> audit = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        sshd = OpenSshd.start(sshDir);
        HubPki.CertificateFiles pki = HubPki.ensure(dataDir, Set.of("localhost"));
        byte[] key = StreamTokenKeyFile.loadOrCreate(dataDir.resolve(HubServer.STREAM_TOKEN_KEY_FILE));
        standalone = StandaloneGateway.start(new InetSocketAddress("127.0.0.1", 0),
                SslContextBuilder.forServer(pki.serverChain().toFile(), pki.serverKey().toFile()).build(),
                GatewayConfig.defaults(key));
        standalone.gateway().onAudit(e -> {
            ObjectNode o = Json.object().put("deviceId", e.deviceId()).put("mode", e.tunnel() ? "tunnel" : "stream")
                    .put("reason", e.reason()).put("opType", e.kind().name())
                    .put("closed", String.valueOf(e.closed()));
            audit.add(o);
        });
        standalone.gateway().onChannelAudit(e -> audit.add(Json.object().put("deviceId", e.deviceId())
                .put("target", e.target()).put("reason", e.reason()).put("opType", e.kind().name())));
        hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                .withStreamGatewayUrl("wss://localhost:" + standalone.port()));
        // through a forwarder the outage test can cut, as a network between gateway and hub would be
        toHub = new TcpForwarder(hub.httpsPort());
        feed = standalone.followRevocations(URI.create("https://localhost:" + toHub.port()),
                ClientTls.trusting(hub.ca()));
        Proxies.await(feed::isConnected, "the gateway did not connect to the hub's revocation feed");
    }

    @AfterAll
    static void stop() throws Exception {
        if (standalone != null) {
            standalone.close();
        }
        if (toHub != null) {
            toHub.close();
        }
        if (hub != null) {
            hub.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    @Override
    StreamTestHub hub() {
        return hub;
    }

    @Override
    OpenSshd sshd() {
        return sshd;
    }

    @Override
    StreamGateway gateway() {
        return standalone.gateway();
    }

    @Override
    List<JsonNode> auditEvents(String deviceId, String opType) {
        List<JsonNode> out = new ArrayList<>();
        for (ObjectNode e : audit) {
            if (e.path("deviceId").asText().equals(deviceId) && e.path("opType").asText().equals(opType)) {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    long revocationMark() {
        return feed.applied();
    }

    @Override
    void awaitRevocationAfter(long mark) throws Exception {
        Proxies.await(() -> feed.applied() > mark, "the gateway did not apply the revocation", BOUND);
    }

    @Override
    String prefix() {
        return "standalone-";
    }

    @Test
    void afterAHubRestartTheGatewayReChecksItsStreams() throws Exception {
        try (Rig rig = new Rig(prefix() + "restart")) {
            rig.openSessions();
            toHub.cut();
            Proxies.await(() -> !feed.isConnected(), "the feed did not notice the outage");
            // the hub restarts (its feed's numbers start again) and the device is disabled while the gateway is
            // away: the new hub cannot replay that, so the gateway names the identities it has streams of
            hub.close();
            hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                    .withStreamGatewayUrl("wss://localhost:" + standalone.port()));
            HttpResponse<String> put = updateDevice(rig.deviceId, d -> d.put("status", "disabled"));
            assertEquals(200, put.statusCode(), put.body());
            rig.sessions.get(0).assertEchoes("still here");
            long back = System.nanoTime();
            toHub.retarget(hub.httpsPort());
            toHub.restore();
            long ms = rig.awaitAllClosed(back);
            System.out.printf("hub restarted, feed restored -> 4 ssh sessions closed in %d ms (re-checked)%n", ms);
            rig.assertEverythingClosed();
            assertAudited(rig.deviceId, "revoked: the device was disabled");
        }
    }

    @Test
    void afterAHubRestartTheGatewayReChecksTheInitiatorKeysOfItsStreams() throws Exception {
        String team = prefix() + "restart-team";
        JsonNode policy = putAccessPolicy(team, "ServiceConnect");
        try (Rig rig = new Rig(prefix() + "restart-team-device", ConnectionString.forPolicy(
                hub.host(), team, policy.path("primaryKey").asText()))) {
            rig.openSessions();
            toHub.cut();
            Proxies.await(() -> !feed.isConnected(), "the feed did not notice the outage");
            // the hub restarts and the policy's key is regenerated while the gateway is away: the new hub cannot
            // replay that, so the gateway names the initiator keys of its streams too
            hub.close();
            hub = new StreamTestHub(HubConfig.ephemeral(dataDir).withHostName("localhost")
                    .withStreamGatewayUrl("wss://localhost:" + standalone.port()));
            regenerateAccessPolicyKey(team, "primary");
            rig.sessions.get(0).assertEchoes("still here");
            long back = System.nanoTime();
            toHub.retarget(hub.httpsPort());
            toHub.restore();
            long ms = rig.awaitAllClosed(back);
            System.out.printf("hub restarted, policy key regenerated, feed restored -> 4 ssh sessions closed in %d ms"
                    + " (re-checked)%n", ms);
            rig.assertEverythingClosed();
            assertAudited(rig.deviceId, "revoked: the initiating shared access policy's key no longer holds");
        }
    }

    @Test
    void aRevocationMissedDuringAFeedOutageIsAppliedOnReconnect() throws Exception {
        try (Rig rig = new Rig(prefix() + "outage")) {
            rig.openSessions();
            toHub.cut();
            Proxies.await(() -> !feed.isConnected(), "the feed did not notice the outage");
            long applied = feed.applied();
            HttpResponse<String> put = updateDevice(rig.deviceId, d -> d.put("status", "disabled"));
            assertEquals(200, put.statusCode(), put.body());
            // the hub is unreachable from the gateway: its streams go on meanwhile
            rig.sessions.get(0).assertEchoes("still here");
            assertEquals(2, streamsOf(rig.deviceId), "the gateway kept serving while the feed was down");
            long back = System.nanoTime();
            toHub.restore();
            long ms = rig.awaitAllClosed(back);
            System.out.printf("feed restored -> 4 ssh sessions closed in %d ms (missed revocation replayed)%n", ms);
            rig.assertEverythingClosed();
            assertTrue(feed.applied() > applied, "the missed revocation was applied by its number");
            assertTrue(ms <= RevocationFeed.MAX_BACKOFF_MILLIS + BOUND.toMillis(), ms + " ms");
        }
    }
}
