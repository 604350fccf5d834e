package io.ferryhub.cli;

import io.ferryhub.common.json.Json;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub ipfilter} against a running hub: listing, adding at a position, deleting, replacing, and errors. */
@Timeout(120)
class IpFilterCliTest {
    @TempDir
    Path dataDir;

    private static CliResult iothub(HubServer hub, Path dataDir, String... argv) {
        return CliResult.against(hub, dataDir, argv);
    }

    @Test
    void rulesAreListedAddedDeletedAndReplaced() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            CliResult empty = iothub(hub, dataDir, "ipfilter", "list");
            assertEquals(0, empty.status(), empty.err());
            assertTrue(empty.out().contains("no IP filter rules: every address may connect"), empty.out());

            CliResult added = iothub(hub, dataDir, "ipfilter", "add", "other-host", "127.0.0.2/32", "--action", "reject");
            assertEquals(0, added.status(), added.err());
            assertTrue(added.out().contains("other-host") && added.out().contains("127.0.0.2/32")
                    && added.out().contains("Reject"), added.out());
            assertFalse(hub.ipFilter().rules().admits(InetAddress.getByName("127.0.0.2")), "in force at once");

            CliResult first = iothub(hub, dataDir, "ipfilter", "add", "office", "10.0.0.0/8", "--action", "accept",
                    "--position", "1");
            assertEquals(0, first.status(), first.err());
            CliResult listed = iothub(hub, dataDir, "ipfilter", "list", "--json");
            assertEquals(Json.parse("{\"ipFilterRules\":[{\"filterName\":\"office\",\"action\":\"Accept\","
                    + "\"ipMask\":\"10.0.0.0/8\"},{\"filterName\":\"other-host\",\"action\":\"Reject\","
                    + "\"ipMask\":\"127.0.0.2/32\"}]}"), Json.parse(listed.out()));

            CliResult badRange = iothub(hub, dataDir, "ipfilter", "add", "x", "10.0.0.0/33", "--action", "reject");
            assertEquals(1, badRange.status());
            assertTrue(badRange.err().contains("out of range"), badRange.err());
            CliResult noAction = iothub(hub, dataDir, "ipfilter", "add", "x", "10.0.0.1");
            assertEquals(2, noAction.status());
            assertTrue(noAction.err().contains("--action"), noAction.err());
            CliResult unknown = iothub(hub, dataDir, "ipfilter", "delete", "nope");
            assertEquals(1, unknown.status());
            assertTrue(unknown.err().contains("no IP filter rule is named 'nope'"), unknown.err());

            Path bad = dataDir.resolveSibling(dataDir.getFileName() + "-bad.json");
            Files.writeString(bad, "{\"ipFilterRules\":[{\"filterName\":\"all\",\"action\":\"Reject\",\"ipMask\":"
                    + "\"0.0.0.0/0\"},{\"filterName\":\"v6\",\"action\":\"Reject\",\"ipMask\":\"::1/129\"}]}");
            CliResult refused = iothub(hub, dataDir, "ipfilter", "set", "--file", bad.toString());
            assertEquals(1, refused.status());
            assertTrue(refused.err().contains("rule 2"), refused.err());
            assertEquals(listed.out(), iothub(hub, dataDir, "ipfilter", "list", "--json").out(), "nothing applied");

            Path good = dataDir.resolveSibling(dataDir.getFileName() + "-good.json");
            Files.writeString(good, "[{\"filterName\":\"v6\",\"action\":\"Reject\",\"ipMask\":\"2001:db8::/32\"}]");
            CliResult set = iothub(hub, dataDir, "ipfilter", "set", "--file", good.toString());
            assertEquals(0, set.status(), set.err());
            assertTrue(set.out().contains("IP filter replaced") && set.out().contains("2001:db8::/32"), set.out());

            CliResult deleted = iothub(hub, dataDir, "ipfilter", "delete", "V6");
            assertEquals(0, deleted.status(), deleted.err());
            assertTrue(hub.ipFilter().rules().isEmpty());
            Files.delete(bad);
            Files.delete(good);
        }
    }
}
