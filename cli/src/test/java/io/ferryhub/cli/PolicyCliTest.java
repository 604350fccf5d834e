package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub policy add|show|regenerate-key|delete} against a running hub: results on stdout, one-line errors. */
@Timeout(120)
class PolicyCliTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;

    record Result(int status, String out, String err) {
        JsonNode json() {
            return Json.parse(out);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static Result iothub(String... argv) {
        List<String> args = new ArrayList<>(List.of(argv));
        args.addAll(List.of("--data-dir", dataDir.toString(), "--url", "https://localhost:" + hub.httpsPort()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void addShowRegenerateAndDeleteAPolicy() {
        Result added = iothub("policy", "add", "cli-team", "--rights", "ServiceConnect,RegistryRead");
        assertEquals(0, added.status(), added.err());
        assertTrue(added.out().contains("RegistryRead, ServiceConnect"), added.out());
        String primary = hub.policies().get("cli-team").primaryKey();
        assertTrue(added.out().contains("SharedAccessKeyName=cli-team;SharedAccessKey=" + primary), added.out());

        Result shown = iothub("policy", "show", "cli-team", "--json");
        assertEquals(primary, shown.json().get("primaryKey").asText());

        Result secondary = iothub("policy", "regenerate-key", "cli-team", "--key", "secondary");
        assertEquals(0, secondary.status(), secondary.err());
        assertTrue(secondary.out().startsWith("policy cli-team: new secondary key; the old one no longer works"),
                secondary.out());
        assertEquals(primary, hub.policies().get("cli-team").primaryKey(), "the primary stays");
        Result swapped = iothub("policy", "regenerate-key", "cli-team", "--key", "swap", "--json");
        assertEquals(primary, swapped.json().get("secondaryKey").asText());
        Result rotated = iothub("policy", "regenerate-key", "cli-team", "--key", "primary", "--json");
        assertNotEquals(swapped.json().get("primaryKey"), rotated.json().get("primaryKey"));

        Result deleted = iothub("policy", "delete", "cli-team");
        assertEquals(0, deleted.status(), deleted.err());
        assertTrue(deleted.out().startsWith("policy cli-team deleted"), deleted.out());
        Result gone = iothub("policy", "show", "cli-team");
        assertEquals(1, gone.status());
        assertEquals("iothub: 404902 SharedAccessPolicyNotFound: no shared access policy 'cli-team': 'iothub policy "
                + "list' shows the hub's policies\n", gone.err());
    }

    @Test
    void mistakesSayWhatToDo() {
        Result noRights = iothub("policy", "add", "x");
        assertEquals(2, noRights.status());
        assertTrue(noRights.err().contains("missing --rights, e.g. --rights ServiceConnect,RegistryRead"),
                noRights.err());
        Result badRight = iothub("policy", "add", "x", "--rights", "ServiceConnect,Admin");
        assertEquals(1, badRight.status());
        assertTrue(badRight.err().contains("unknown right 'Admin': use any of RegistryRead, RegistryWrite, "
                + "ServiceConnect, DeviceConnect"), badRight.err());
        Result badKey = iothub("policy", "regenerate-key", "service", "--key", "both");
        assertEquals(2, badKey.status());
        assertTrue(badKey.err().contains("--key must be primary, secondary or swap"), badKey.err());
        Result lastWriter = iothub("policy", "add", "iothubowner", "--rights", "ServiceConnect");
        assertEquals(1, lastWriter.status());
        assertTrue(lastWriter.err().contains("400003 InvalidOperation: changing policy 'iothubowner' would leave"),
                lastWriter.err());
        assertEquals(1, lastWriter.err().lines().count(), "one line: " + lastWriter.err());
    }
}
