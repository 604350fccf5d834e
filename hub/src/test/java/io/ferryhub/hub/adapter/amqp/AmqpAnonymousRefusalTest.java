package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.CapturedLog;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.registry.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A $cbs put-token refused for an unknown device, an unknown policy, a wrong key or a disabled device: the same 401
 * and status description each time over AMQPS; the reason is in the hub's log only.
 */
class AmqpAnonymousRefusalTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        tls = SSLContext.getInstance("TLSv1.2");
        tls.init(null, HubTestSupport.trustManagers(hub.caCertificatePath()), null);
        HubTestSupport.register(hub, "known");
        hub.registry().putDevice("benched", new Device("benched", null, null, "disabled", null, null, null, false,
                null, null), null);
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    @Test
    void putTokenRefusalsAreAlike() throws Exception {
        String randomKey = Base64.getEncoder().encodeToString(new byte[32]);
        String owner = hub.policies().find("iothubowner").orElseThrow().primaryKey();
        String benchedKey = hub.registry().device("benched").authentication().symmetricKey().primaryKey();
        Instant later = Instant.now().plusSeconds(3600);
        String host = hub.hostName();
        Map<String, String[]> cases = new LinkedHashMap<>();
        cases.put("unknown device", new String[]{host + "/devices/ghost",
                SasToken.create(host + "/devices/ghost", randomKey, null, later)});
        cases.put("unknown policy", new String[]{host + "/devices/known",
                SasToken.create(host, owner, "nosuchpolicy", later)});
        cases.put("wrong key", new String[]{host + "/devices/known",
                SasToken.create(host + "/devices/known", randomKey, null, later)});
        cases.put("disabled device", new String[]{host + "/devices/benched",
                SasToken.create(host + "/devices/benched", benchedKey, null, later)});
        try (CapturedLog log = new CapturedLog()) {
            for (var c : cases.entrySet()) {
                try (ProtonClient client = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS,
                        null, null)) {
                    assertEquals(401, client.putToken(c.getValue()[0], c.getValue()[1]), c.getKey());
                    assertEquals("Unauthorized.", client.lastStatusDescription, c.getKey());
                }
            }
            log.awaitContaining("device is not registered");
            log.awaitContaining("unknown shared access policy 'nosuchpolicy'");
            log.awaitContaining("matches neither of the identity's keys");
            log.awaitContaining("device is disabled");
        }
    }
}
