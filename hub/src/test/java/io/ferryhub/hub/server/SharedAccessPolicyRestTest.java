package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared access policy routes over HTTPS: create, read, replace, delete, regenerate and swap keys, as an
 * iothubowner-like caller; bad input answered with IoT Hub's error shapes; a regenerated key refused at once and its
 * successor taken; everything as it was after a restart.
 */
@Timeout(120)
class SharedAccessPolicyRestTest {
    @TempDir
    Path dataDir;

    private static final String API = "?api-version=2021-04-12";

    private static RestClient.Reply call(RestClient rest, String method, String path, String body) throws Exception {
        return rest.owner(method, path + API, body);
    }

    private static RestClient.Reply getDevicesWith(HubServer hub, RestClient rest, String policy, String key)
            throws Exception {
        return rest.send("GET", "/devices" + API, null, Map.of("Authorization",
                SasToken.create(hub.hostName(), key, policy, Instant.now().plusSeconds(600))));
    }

    private static void assertMessage(RestClient.Reply reply, String fragment) {
        String message = Json.parse(reply.json().get("Message").asText()).get("message").asText();
        assertTrue(message.contains(fragment), message);
    }

    @Test
    void policiesAreManagedOverRestAndSurviveARestart() throws Exception {
        JsonNode team;
        String ownerPrimary;
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            RestClient.Reply created = call(rest, "PUT", "/sharedAccessPolicies/team-a",
                    "{\"rights\":\"ServiceConnect, RegistryRead\"}");
            assertEquals(201, created.status(), created.body());
            team = created.json();
            assertEquals("team-a", team.get("keyName").asText());
            assertEquals("RegistryRead, ServiceConnect", team.get("rights").asText());

            RestClient.Reply read = call(rest, "GET", "/sharedAccessPolicies/team-a", null);
            assertEquals(200, read.status());
            assertEquals(team, read.json());
            assertEquals(200, getDevicesWith(hub, rest, "team-a", team.get("primaryKey").asText()).status(),
                    "RegistryRead lets it read the registry");

            RestClient.Reply narrowed = call(rest, "PUT", "/sharedAccessPolicies/team-a",
                    "{\"rights\":[\"ServiceConnect\"]}");
            assertEquals(200, narrowed.status(), narrowed.body());
            assertEquals(team.get("primaryKey"), narrowed.json().get("primaryKey"), "a replace keeps the keys");
            RegistryRestTest.assertError(getDevicesWith(hub, rest, "team-a", team.get("primaryKey").asText()), 401,
                    401002, "IotHubUnauthorizedAccess");

            RestClient.Reply regenerated = call(rest, "POST", "/sharedAccessPolicies/team-a/regenerateKey",
                    "{\"key\":\"primary\"}");
            assertEquals(200, regenerated.status(), regenerated.body());
            team = regenerated.json();
            call(rest, "PUT", "/sharedAccessPolicies/team-a", "{\"rights\":\"ServiceConnect, RegistryRead\"}");
            String oldPrimary = created.json().get("primaryKey").asText();
            assertNotEquals(oldPrimary, team.get("primaryKey").asText());
            assertEquals(created.json().get("secondaryKey"), team.get("secondaryKey"));
            RegistryRestTest.assertError(getDevicesWith(hub, rest, "team-a", oldPrimary), 401, 401002,
                    "IotHubUnauthorizedAccess");
            assertEquals(200, getDevicesWith(hub, rest, "team-a", team.get("primaryKey").asText()).status());
            assertEquals(200, getDevicesWith(hub, rest, "team-a", team.get("secondaryKey").asText()).status());

            RestClient.Reply swapped = call(rest, "POST", "/sharedAccessPolicies/team-a/regenerateKey",
                    "{\"key\":\"swap\"}");
            assertEquals(team.get("primaryKey"), swapped.json().get("secondaryKey"));
            assertEquals(team.get("secondaryKey"), swapped.json().get("primaryKey"));
            team = call(rest, "GET", "/sharedAccessPolicies/team-a", null).json();
            ownerPrimary = hub.policies().get("iothubowner").primaryKey();
            assertEquals(204, call(rest, "DELETE", "/sharedAccessPolicies/registryRead", null).status());
        }
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            assertEquals(team, call(rest, "GET", "/sharedAccessPolicies/team-a", null).json(), "as it was");
            assertEquals(ownerPrimary, hub.policies().get("iothubowner").primaryKey());
            RegistryRestTest.assertError(call(rest, "GET", "/sharedAccessPolicies/registryRead", null), 404, 404902,
                    "SharedAccessPolicyNotFound");
            assertEquals(200, getDevicesWith(hub, rest, "team-a", team.get("primaryKey").asText()).status());
        }
    }

    @Test
    void badInputIsRefusedWithClearMessagesAndChangesNothing() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            RestClient.Reply unknown = call(rest, "GET", "/sharedAccessPolicies/nobody", null);
            RegistryRestTest.assertError(unknown, 404, 404902, "SharedAccessPolicyNotFound");
            assertMessage(unknown, "no shared access policy 'nobody'");
            RegistryRestTest.assertError(call(rest, "DELETE", "/sharedAccessPolicies/nobody", null), 404, 404902,
                    "SharedAccessPolicyNotFound");
            RegistryRestTest.assertError(call(rest, "POST", "/sharedAccessPolicies/nobody/regenerateKey",
                    "{\"key\":\"primary\"}"), 404, 404902, "SharedAccessPolicyNotFound");

            RestClient.Reply badName = call(rest, "PUT", "/sharedAccessPolicies/-dash", "{\"rights\":\"ServiceConnect\"}");
            RegistryRestTest.assertError(badName, 400, 400004, "ArgumentInvalid");
            assertMessage(badName, "invalid shared access policy name '-dash'");
            RestClient.Reply badRight = call(rest, "PUT", "/sharedAccessPolicies/x", "{\"rights\":\"Everything\"}");
            RegistryRestTest.assertError(badRight, 400, 400004, "ArgumentInvalid");
            assertMessage(badRight, "unknown right 'Everything'");
            RestClient.Reply noRights = call(rest, "PUT", "/sharedAccessPolicies/x", "{\"rights\":\"\"}");
            RegistryRestTest.assertError(noRights, 400, 400004, "ArgumentInvalid");
            assertMessage(noRights, "at least one right");
            RestClient.Reply badKey = call(rest, "POST", "/sharedAccessPolicies/service/regenerateKey",
                    "{\"key\":\"tertiary\"}");
            RegistryRestTest.assertError(badKey, 400, 400004, "ArgumentInvalid");
            assertMessage(badKey, "\"primary\", \"secondary\"");

            for (int i = 6; i <= 16; i++) {
                assertEquals(201, call(rest, "PUT", "/sharedAccessPolicies/p" + i,
                        "{\"rights\":\"ServiceConnect\"}").status());
            }
            RestClient.Reply seventeenth = call(rest, "PUT", "/sharedAccessPolicies/p17",
                    "{\"rights\":\"ServiceConnect\"}");
            RegistryRestTest.assertError(seventeenth, 400, 400004, "ArgumentInvalid");
            assertMessage(seventeenth, "at most 16");
            assertEquals(16, call(rest, "GET", "/sharedAccessPolicies", null).json().get("value").size());

            // the last RegistryWrite policy
            assertEquals(204, call(rest, "DELETE", "/sharedAccessPolicies/registryReadWrite", null).status());
            RestClient.Reply lastWriter = call(rest, "DELETE", "/sharedAccessPolicies/iothubowner", null);
            RegistryRestTest.assertError(lastWriter, 400, 400003, "InvalidOperation");
            assertMessage(lastWriter, "would leave no policy granting RegistryWrite");
            RestClient.Reply narrowing = call(rest, "PUT", "/sharedAccessPolicies/iothubowner",
                    "{\"rights\":\"RegistryRead, ServiceConnect, DeviceConnect\"}");
            RegistryRestTest.assertError(narrowing, 400, 400003, "InvalidOperation");
            assertEquals("RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect",
                    call(rest, "GET", "/sharedAccessPolicies/iothubowner", null).json().get("rights").asText());
        }
    }

    @Test
    void onlyACallerWithEveryRightManagesPoliciesAndTheOwnerFilesFollowIothubownersKey() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            RestClient rest = new RestClient(hub);
            String rw = hub.policies().get("registryReadWrite").primaryKey();
            RestClient.Reply refused = rest.send("PUT", "/sharedAccessPolicies/mine" + API,
                    "{\"rights\":\"ServiceConnect\"}", Map.of("Authorization", SasToken.create(hub.hostName(), rw,
                            "registryReadWrite", Instant.now().plusSeconds(600))));
            RegistryRestTest.assertError(refused, 401, 401002, "IotHubUnauthorizedAccess");
            assertEquals(404, call(rest, "GET", "/sharedAccessPolicies/mine", null).status());

            call(rest, "POST", "/sharedAccessPolicies/iothubowner/regenerateKey", "{\"key\":\"primary\"}");
            String owner = hub.policies().get("iothubowner").primaryKey();
            assertTrue(Files.readString(dataDir.resolve(HubServer.OWNER_CONNECTION_STRING_FILE))
                    .contains("SharedAccessKey=" + owner), "the local CLI's credentials follow the new key");
        }
    }
}
