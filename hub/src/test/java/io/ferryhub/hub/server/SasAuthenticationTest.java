package io.ferryhub.hub.server;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.signaling.StreamRequestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SAS tokens as IoT Hub checks them: for each kind a valid token (the positive control) beside the tokens that must
 * be refused. Service tokens go over HTTPS; device tokens through the hub's device authenticator, as transports call it.
 */
class SasAuthenticationTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;
    static String primary;
    static String secondary;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("myhub.example.test"));
        rest = new RestClient(hub);
        RestClient.Reply created = rest.owner("PUT", "/devices/sas-dev", "{}");
        primary = created.json().at("/authentication/symmetricKey/primaryKey").asText();
        secondary = created.json().at("/authentication/symmetricKey/secondaryKey").asText();
        rest.owner("PUT", "/devices/sas-dev/modules/mod", "{}");
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static Instant inAnHour() {
        return Instant.now().plusSeconds(3600);
    }

    static SharedAccessPolicy policy(String name) {
        return hub.policies().find(name).orElseThrow();
    }

    static RestClient.Reply getDeviceWith(String token) throws Exception {
        return rest.send("GET", "/devices/sas-dev?api-version=2021-04-12",
                null, token == null ? Map.of() : Map.of("Authorization", token));
    }

    static void assertUnauthorized(RestClient.Reply reply) {
        RegistryRestTest.assertError(reply, 401, 401002, "IotHubUnauthorizedAccess");
    }

    static String tampered(String token) {
        int sig = token.indexOf("sig=") + 4;
        char c = token.charAt(sig);
        return token.substring(0, sig) + (c == 'A' ? 'B' : 'A') + token.substring(sig + 1);
    }

    @Test
    void serviceTokens() throws Exception {
        String host = hub.hostName();
        // positive controls: every policy with RegistryRead, either key, any alias in any case, with a port
        assertEquals(200, getDeviceWith(SasToken.create(host, policy("iothubowner").primaryKey(), "iothubowner",
                inAnHour())).status());
        assertEquals(200, getDeviceWith(SasToken.create(host, policy("registryRead").secondaryKey(), "registryRead",
                inAnHour())).status());
        assertEquals(200, getDeviceWith(SasToken.create("LOCALHOST:443", policy("registryReadWrite").primaryKey(),
                "registryReadWrite", inAnHour())).status());
        assertEquals(200, getDeviceWith(SasToken.create("[::1]:443", policy("iothubowner").primaryKey(),
                "iothubowner", inAnHour())).status());
        assertEquals(200, getDeviceWith(SasToken.create("https://MyHub.Example.Test/", policy("iothubowner")
                .primaryKey(), "iothubowner", inAnHour())).status());
        // the Java service SDK signs URLEncoder.encode(host.toLowerCase()) and lists fields sr, sig, se, skn
        String se = Long.toString(inAnHour().getEpochSecond());
        String sr = "myhub.example.test";
        String sig = SasToken.sign(Base64.getDecoder().decode(policy("iothubowner").primaryKey()), sr, se);
        assertEquals(200, getDeviceWith("SharedAccessSignature sr=" + sr + "&sig="
                + java.net.URLEncoder.encode(sig, java.nio.charset.StandardCharsets.UTF_8) + "&se=" + se
                + "&skn=iothubowner").status());

        // negatives
        assertUnauthorized(getDeviceWith(null));
        assertUnauthorized(getDeviceWith("Bearer abc"));
        assertUnauthorized(getDeviceWith(SasToken.create(host, policy("iothubowner").primaryKey(), "iothubowner",
                Instant.now().minusSeconds(5))));
        assertUnauthorized(getDeviceWith(tampered(SasToken.create(host, policy("iothubowner").primaryKey(),
                "iothubowner", inAnHour()))));
        assertUnauthorized(getDeviceWith(SasToken.create("otherhub.example.test", policy("iothubowner").primaryKey(),
                "iothubowner", inAnHour())));
        assertUnauthorized(getDeviceWith(SasToken.create(host + "/devices/sas-dev", policy("iothubowner").primaryKey(),
                "iothubowner", inAnHour())));
        assertUnauthorized(getDeviceWith(SasToken.create(host, policy("service").primaryKey(), "service",
                inAnHour())));
        assertUnauthorized(getDeviceWith(SasToken.create(host, policy("iothubowner").primaryKey(), "nosuchpolicy",
                inAnHour())));
        assertUnauthorized(getDeviceWith(SasToken.create(host, policy("registryRead").primaryKey(), "iothubowner",
                inAnHour())));
        // a device's own key does not open the service API
        assertUnauthorized(getDeviceWith(SasToken.create(host + "/devices/sas-dev", primary, null, inAnHour())));
        // read-only policy cannot write
        assertUnauthorized(rest.send("PUT", "/devices/sas-new?api-version=2021-04-12", "{}", Map.of("Authorization",
                SasToken.create(host, policy("registryRead").primaryKey(), "registryRead", inAnHour()))));
    }

    @Test
    void deviceTokens() {
        DeviceAuthenticator auth = hub.deviceAuthenticator();
        String host = hub.hostName();
        String resource = host + "/devices/sas-dev";
        // positive controls: primary, secondary, a DeviceConnect policy; Java device style (raw sr, fields sig,se,sr)
        AuthenticatedDevice byPrimary = auth.authenticate("sas-dev", null,
                SasToken.create(resource, primary, null, inAnHour()), null);
        assertEquals("sas-dev", byPrimary.deviceId());
        assertEquals("sas", byPrimary.authMethod());
        assertEquals(hub.registry().device("sas-dev").generationId(), byPrimary.generationId());
        auth.authenticate("sas-dev", null, SasToken.create(resource, secondary, null, inAnHour()), null);
        auth.authenticate("sas-dev", null, SasToken.create(host, policy("device").primaryKey(), "device",
                inAnHour()), null);
        auth.authenticate("sas-dev", null, SasToken.create(resource, policy("iothubowner").secondaryKey(),
                "iothubowner", inAnHour()), null);
        String se = Long.toString(inAnHour().getEpochSecond());
        String sig = SasToken.sign(Base64.getDecoder().decode(primary), resource, se);
        auth.authenticate("sas-dev", null, "SharedAccessSignature sig=" + io.ferryhub.common.sas.PercentEncoding
                .encode(sig) + "&se=" + se + "&sr=" + resource, null);
        String moduleKey = hub.registry().module("sas-dev", "mod").authentication().symmetricKey().primaryKey();
        assertEquals("sas-dev/mod", auth.authenticate("sas-dev", "mod",
                SasToken.create(resource + "/modules/mod", moduleKey, null, inAnHour()), null).clientId());

        // negatives
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create(resource, primary, null,
                Instant.now().minusSeconds(1)), null));
        refused(() -> auth.authenticate("sas-dev", null, tampered(SasToken.create(resource, primary, null,
                inAnHour())), null));
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create(host + "/devices/other", primary, null,
                inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create(host + "/devices/sas-dev2", primary, null,
                inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create("evil.example.test/devices/sas-dev",
                primary, null, inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create(host, primary, null, inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", null, SasToken.create(host, policy("registryReadWrite")
                .primaryKey(), "registryReadWrite", inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", "mod", SasToken.create(resource + "/modules/mod", primary, null,
                inAnHour()), null));
        refused(() -> auth.authenticate("nobody", null, SasToken.create(host + "/devices/nobody", primary, null,
                inAnHour()), null));
        refused(() -> auth.authenticate("sas-dev", null, null, null));
    }

    @Test
    void disablingADeviceCutsItsLinksAndRefusesIt() throws Exception {
        RestClient.Reply created = rest.owner("PUT", "/devices/cut-dev", "{}");
        String key = created.json().at("/authentication/symmetricKey/primaryKey").asText();
        String token = SasToken.create(hub.hostName() + "/devices/cut-dev", key, null, inAnHour());
        AuthenticatedDevice identity = hub.deviceAuthenticator().authenticate("cut-dev", null, token, null);
        List<HubErrorCode> closes = new CopyOnWriteArrayList<>();
        DeviceLink link = new DeviceLink() {
            public AuthenticatedDevice identity() {
                return identity;
            }

            public String transport() {
                return "test";
            }

            public Optional<StreamRequestSink> streamRequests() {
                return Optional.empty();
            }

            public void close(HubErrorCode reason) {
                closes.add(reason);
                hub.deviceConnections().unregister(this);
            }
        };
        hub.deviceConnections().register(link);
        RestClient.Reply shown = rest.owner("GET", "/devices/cut-dev", null);
        assertEquals("Connected", shown.json().get("connectionState").asText());
        assertEquals(1, rest.owner("GET", "/statistics/service", null).json().get("connectedDeviceCount").asInt());

        assertEquals(200, rest.owner("PUT", "/devices/cut-dev", "{\"status\":\"disabled\"}",
                Map.of("If-Match", "*")).status());
        assertEquals(List.of(HubErrorCode.IotHubUnauthorizedAccess), closes);
        assertEquals("Disconnected", rest.owner("GET", "/devices/cut-dev", null).json().get("connectionState")
                .asText());
        assertEquals(0, rest.owner("GET", "/statistics/service", null).json().get("connectedDeviceCount").asInt());
        HubException e = assertThrows(HubException.class,
                () -> hub.deviceAuthenticator().authenticate("cut-dev", null, token, null));
        assertTrue(AuthenticationRefused.reasonOf(e).contains("disabled"), AuthenticationRefused.reasonOf(e));
        assertEquals(Device.DISABLED, hub.registry().device("cut-dev").status());
    }

    static void refused(org.junit.jupiter.api.function.Executable call) {
        HubException e = assertThrows(HubException.class, call);
        assertEquals(HubErrorCode.IotHubUnauthorizedAccess, e.errorCode());
    }
}
