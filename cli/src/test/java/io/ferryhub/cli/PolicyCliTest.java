package io.ferryhub.cli;

import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub policy add|show|regenerate-key|delete} against a running hub: results on stdout, one-line errors. */
@Timeout(120)
class PolicyCliTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    static CliResult iothub(String... argv) {
        return CliResult.against(hub, dataDir, argv);
    }

    @Test
    void addShowRegenerateAndDeleteAPolicy() {
        CliResult added = iothub("policy", "add", "cli-team", "--rights", "ServiceConnect,RegistryRead");
        assertEquals(0, added.status(), added.err());
        assertTrue(added.out().contains("RegistryRead, ServiceConnect"), added.out());
        String primary = hub.policies().get("cli-team").primaryKey();
        assertTrue(added.out().contains("SharedAccessKeyName=cli-team;SharedAccessKey=" + primary), added.out());

        CliResult shown = iothub("policy", "show", "cli-team", "--json");
        assertEquals(primary, shown.json().get("primaryKey").asText());

        CliResult secondary = iothub("policy", "regenerate-key", "cli-team", "--key", "secondary");
        assertEquals(0, secondary.status(), secondary.err());
        assertTrue(secondary.out().startsWith("policy cli-team: new secondary key; the old one no longer works"),
                secondary.out());
        assertEquals(primary, hub.policies().get("cli-team").primaryKey(), "the primary stays");
        CliResult swapped = iothub("policy", "regenerate-key", "cli-team", "--key", "swap", "--json");
        assertEquals(primary, swapped.json().get("secondaryKey").asText());
        CliResult rotated = iothub("policy", "regenerate-key", "cli-team", "--key", "primary", "--json");
        assertNotEquals(swapped.json().get("primaryKey"), rotated.json().get("primaryKey"));

        CliResult deleted = iothub("policy", "delete", "cli-team");
        assertEquals(0, deleted.status(), deleted.err());
        assertTrue(deleted.out().startsWith("policy cli-team deleted"), deleted.out());
        CliResult gone = iothub("policy", "show", "cli-team");
        assertEquals(1, gone.status());
        assertEquals("iothub: 404902 SharedAccessPolicyNotFound: no shared access policy 'cli-team': 'iothub policy "
                + "list' shows the hub's policies\n", gone.err());
    }

    @Test
    void mistakesSayWhatToDo() {
        CliResult noRights = iothub("policy", "add", "x");
        assertEquals(2, noRights.status());
        assertTrue(noRights.err().contains("missing --rights, e.g. --rights ServiceConnect,RegistryRead"),
                noRights.err());
        CliResult badRight = iothub("policy", "add", "x", "--rights", "ServiceConnect,Admin");
        assertEquals(1, badRight.status());
        assertTrue(badRight.err().contains("unknown right 'Admin': use any of RegistryRead, RegistryWrite, "
                + "ServiceConnect, DeviceConnect"), badRight.err());
        CliResult badKey = iothub("policy", "regenerate-key", "service", "--key", "both");
        assertEquals(2, badKey.status());
        assertTrue(badKey.err().contains("--key must be primary, secondary or swap"), badKey.err());
        CliResult lastWriter = iothub("policy", "add", "iothubowner", "--rights", "ServiceConnect");
        assertEquals(1, lastWriter.status());
        assertTrue(lastWriter.err().contains("400003 InvalidOperation: changing policy 'iothubowner' would leave"),
                lastWriter.err());
        assertEquals(1, lastWriter.err().lines().count(), "one line: " + lastWriter.err());
    }
}
