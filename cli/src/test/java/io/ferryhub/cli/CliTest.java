package io.ferryhub.cli;

import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI against a running hub, through the REST API only. */
class CliTest {
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
        List<String> args = new ArrayList<>(List.of(argv));
        if (!args.get(0).equals("start")) {
            args.addAll(List.of("--data-dir", dataDir.toString()));
            if (!args.contains("--url")) {
                args.addAll(List.of("--url", "https://localhost:" + hub.httpsPort()));
            }
        }
        return CliResult.run(args);
    }

    @Test
    void deviceLifecycle() {
        CliResult created = iothub("device", "create", "cli-dev", "--json");
        assertEquals(0, created.status(), created.err());
        String primary = created.json().at("/authentication/symmetricKey/primaryKey").asText();

        CliResult shown = iothub("device", "show", "cli-dev");
        assertEquals(0, shown.status(), shown.err());
        assertTrue(shown.out().contains("primaryKey:") && shown.out().contains(primary), shown.out());

        CliResult cs = iothub("device", "connection-string", "cli-dev");
        assertEquals(0, cs.status(), cs.err());
        ConnectionString parsed = ConnectionString.parse(cs.out().trim());
        assertEquals(hub.hostName(), parsed.hostName());
        assertEquals("cli-dev", parsed.deviceId().orElseThrow());
        assertEquals(primary, parsed.sharedAccessKey().orElseThrow());

        CliResult disabled = iothub("device", "disable", "cli-dev", "--reason", "maintenance", "--json");
        assertEquals(0, disabled.status(), disabled.err());
        assertEquals("disabled", disabled.json().get("status").asText());
        assertEquals("maintenance", disabled.json().get("statusReason").asText());
        assertEquals("enabled", iothub("device", "enable", "cli-dev", "--json").json().get("status").asText());

        CliResult rekeyed = iothub("device", "regenerate-key", "cli-dev", "--key", "both", "--json");
        assertEquals(0, rekeyed.status(), rekeyed.err());
        assertNotEquals(primary, rekeyed.json().at("/authentication/symmetricKey/primaryKey").asText());
        CliResult swapped = iothub("device", "regenerate-key", "cli-dev", "--key", "swap", "--json");
        assertEquals(rekeyed.json().at("/authentication/symmetricKey/primaryKey"),
                swapped.json().at("/authentication/symmetricKey/secondaryKey"));

        CliResult listed = iothub("device", "list");
        assertEquals(0, listed.status(), listed.err());
        assertTrue(listed.out().startsWith("DEVICE ID"), listed.out());
        assertTrue(listed.out().contains("cli-dev"), listed.out());

        assertEquals(0, iothub("device", "delete", "cli-dev").status());
        CliResult gone = iothub("device", "show", "cli-dev");
        assertEquals(1, gone.status());
        assertEquals(1, gone.err().lines().count(), gone.err());
        assertTrue(gone.err().startsWith("iothub: 404001 DeviceNotFound"), gone.err());
    }

    @Test
    void listPagesThroughTheWholeRegistry() {
        for (int i = 0; i < 7; i++) {
            assertEquals(0, iothub("device", "create", "page-" + i).status());
        }
        CliResult limited = iothub("device", "list", "--top", "3", "--json");
        assertEquals(3, limited.json().size());
        CliResult all = iothub("device", "list", "--json");
        assertTrue(all.json().size() >= 7);
    }

    @Test
    void policyListShowsTheFiveDefaultPolicies() {
        CliResult r = iothub("policy", "list", "--json");
        assertEquals(0, r.status(), r.err());
        List<String> names = new ArrayList<>();
        r.json().forEach(p -> names.add(p.get("keyName").asText()));
        assertEquals(List.of("iothubowner", "service", "device", "registryRead", "registryReadWrite"), names);
        assertEquals("RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect", r.json().get(0).get("rights").asText());
        CliResult readable = iothub("policy", "list");
        assertTrue(readable.out().contains("SharedAccessKeyName=registryRead;"), readable.out());
    }

    @Test
    void policyListPrintsTheBuiltInEndpointsEventHubsConnectionStrings() {
        CliResult r = iothub("policy", "list", "--default-eventhub");
        assertEquals(0, r.status(), r.err());
        String ownerKey = hub.policies().find("iothubowner").orElseThrow().primaryKey();
        assertTrue(r.out().contains("Endpoint=sb://" + hub.hostName() + "/;SharedAccessKeyName=iothubowner;"
                + "SharedAccessKey=" + ownerKey + ";EntityPath=" + hub.eventHubName()), r.out());
        assertTrue(r.out().contains("SharedAccessKeyName=service;"), r.out());
        // only policies with ServiceConnect may read the built-in endpoint
        assertTrue(!r.out().contains("SharedAccessKeyName=registryRead;"), r.out());
    }

    @Test
    void errorsAreOneLineAndNonZero() {
        CliResult usage = iothub("device", "frobnicate", "x");
        assertEquals(2, usage.status());
        assertTrue(usage.err().startsWith("iothub: unknown device command 'frobnicate'"), usage.err());
        CliResult bad = iothub("device", "create", "bad id");
        assertEquals(1, bad.status());
        assertTrue(bad.err().startsWith("iothub: 400004 ArgumentInvalid: deviceId 'bad id' is invalid"), bad.err());
        CliResult unreachable = iothub("device", "list", "--url", "https://localhost:1");
        assertEquals(1, unreachable.status());
        assertTrue(unreachable.err().startsWith("iothub: cannot reach the hub at https://localhost:1"),
                unreachable.err());
        CliResult port = iothub("start", "--https-port", "70000");
        assertEquals(2, port.status());
        assertTrue(port.err().startsWith("iothub: the https port must be between 0 and 65535"), port.err());
        CliResult name = iothub("start", "--host-name", "my hub:443");
        assertEquals(2, name.status());
        assertTrue(name.err().startsWith("iothub: the host name 'my hub:443' is not a host name"), name.err());
    }

    @Test
    void badThrottlingOptionsStopTheStartWithOneLineSayingWhatToWrite() {
        Map<List<String>, String> cases = Map.of(
                List.of("--throttle", "d2c=0/s"), "iothub: d2c=0/s would refuse every operation",
                List.of("--throttle", "telemetry=100/s"), "iothub: 'telemetry=100/s' is not NAME=RATE with NAME one of",
                List.of("--throttle", "c2d=often"), "iothub: 'often' is not a rate: write e.g. 100/s",
                List.of("--units", "0"), "iothub: units must be between 1 and 200",
                List.of("--throttling", "maybe"), "iothub: --throttling is on or off",
                List.of("--throttling", "off", "--throttle", "d2c=1/s"), "iothub: --throttle and --throttling off",
                List.of("--daily-messages", "-5"), "iothub: --daily-messages must be a whole number",
                List.of("--lockout-failures", "0"), "iothub: the failed-authentication threshold");
        cases.forEach((options, expected) -> {
            List<String> argv = new ArrayList<>(List.of("start"));
            argv.addAll(options);
            CliResult r = iothub(argv.toArray(String[]::new));
            assertEquals(2, r.status(), options + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith(expected), options + ": " + r.err());
        });
    }

    @Test
    void anUnknownCommandIsOneLineWithTheHelpHint() {
        CliResult r = iothub("frobnicate");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals(List.of("iothub: unknown command 'frobnicate'; run 'scripts/iothub --help' for the commands "
                + "and their options"), r.err().lines().toList());
        CliResult missing = iothub("device", "show");
        assertEquals(2, missing.status());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("iothub: missing device id; run 'scripts/iothub --help'"), missing.err());
    }

    @Test
    void aKeyThatIsNotBase64IsOneLineSayingSo() {
        CliResult r = iothub("device", "list", "--connection-string",
                "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=b");
        assertEquals(1, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("iothub: bad connection string: its SharedAccessKey is not base64"), r.err());
    }

    @Test
    void enableClearsTheReasonTheDeviceWasDisabledFor() {
        assertEquals(0, iothub("device", "create", "reason-dev").status());
        CliResult disabled = iothub("device", "disable", "reason-dev", "--reason", "stolen", "--json");
        assertEquals("stolen", disabled.json().get("statusReason").asText());

        CliResult enabled = iothub("device", "enable", "reason-dev", "--json");
        assertEquals(0, enabled.status(), enabled.err());
        assertEquals("enabled", enabled.json().get("status").asText());
        assertTrue(enabled.json().get("statusReason").isNull(), enabled.out());
        CliResult shown = iothub("device", "show", "reason-dev");
        assertTrue(shown.out().lines().anyMatch(l -> l.matches("status:\\s+enabled")), shown.out());

        CliResult withReason = iothub("device", "enable", "reason-dev", "--reason", "recovered", "--json");
        assertEquals("recovered", withReason.json().get("statusReason").asText());
    }

    @Test
    void connectionStringIsOneLineEndingInANewline() {
        assertEquals(0, iothub("device", "create", "cs-dev").status());
        CliResult cs = iothub("device", "connection-string", "cs-dev");
        assertEquals(0, cs.status(), cs.err());
        String key = iothub("device", "show", "cs-dev", "--json").json()
                .at("/authentication/symmetricKey/primaryKey").asText();
        assertEquals("HostName=" + hub.hostName() + ";DeviceId=cs-dev;SharedAccessKey=" + key
                + System.lineSeparator(), cs.out());
    }

    @Test
    void moduleLifecycle() {
        assertEquals(0, iothub("device", "create", "mod-dev").status());
        CliResult created = iothub("module", "create", "mod-dev", "filter", "--json");
        assertEquals(0, created.status(), created.err());
        assertEquals("filter", created.json().get("moduleId").asText());
        assertEquals("mod-dev", created.json().get("deviceId").asText());
        String primary = created.json().at("/authentication/symmetricKey/primaryKey").asText();
        assertEquals(44, primary.length(), "a generated 32-byte key, base64");

        CliResult x509 = iothub("module", "create", "mod-dev", "decoder", "--primary-thumbprint", "AB".repeat(20));
        assertEquals(0, x509.status(), x509.err());
        assertTrue(x509.out().lines().anyMatch(l -> l.matches("authentication:\\s+selfSigned")), x509.out());

        CliResult shown = iothub("module", "show", "mod-dev", "filter");
        assertEquals(0, shown.status(), shown.err());
        assertTrue(shown.out().lines().anyMatch(l -> l.matches("moduleId:\\s+filter")), shown.out());
        assertTrue(shown.out().lines().anyMatch(l -> l.matches("primaryKey:\\s+" + Pattern.quote(primary))),
                shown.out());

        CliResult listed = iothub("module", "list", "mod-dev");
        assertEquals(0, listed.status(), listed.err());
        List<String> lines = listed.out().lines().toList();
        assertTrue(lines.get(0).startsWith("MODULE ID"), listed.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("decoder ") && l.contains("selfSigned")), listed.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("filter ") && l.contains("sas")), listed.out());
        assertEquals("2 modules of device mod-dev", lines.get(lines.size() - 1));
        assertEquals(2, iothub("module", "list", "mod-dev", "--json").json().size());

        CliResult cs = iothub("module", "connection-string", "mod-dev", "filter");
        assertEquals(0, cs.status(), cs.err());
        assertEquals("HostName=" + hub.hostName() + ";DeviceId=mod-dev;ModuleId=filter;SharedAccessKey=" + primary
                + System.lineSeparator(), cs.out());
        assertEquals("HostName=" + hub.hostName() + ";DeviceId=mod-dev;ModuleId=decoder;x509=true",
                iothub("module", "connection-string", "mod-dev", "decoder").out().trim());

        CliResult deleted = iothub("module", "delete", "mod-dev", "filter");
        assertEquals(0, deleted.status(), deleted.err());
        assertEquals("deleted module filter of device mod-dev", deleted.out().trim());
        CliResult gone = iothub("module", "show", "mod-dev", "filter");
        assertEquals(1, gone.status());
        assertEquals(1, gone.err().lines().count(), gone.err());
        assertTrue(gone.err().startsWith("iothub: 404010 ModuleNotFound"), gone.err());

        CliResult noModule = iothub("module", "show", "mod-dev");
        assertEquals(2, noModule.status());
        assertTrue(noModule.err().startsWith("iothub: missing module id"), noModule.err());
    }

    /** The documented CA flow with openssl as the user's tool: add, sign the code, verify. */
    @Test
    void caRegistrationWithProofOfPossession(@TempDir Path work) throws Exception {
        openssl(work, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=CLI Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
        CliResult added = iothub("ca", "add", "cli-ca", work.resolve("ca.pem").toString(), "--json");
        assertEquals(0, added.status(), added.err());
        String code = added.json().at("/properties/verificationCode").asText();
        assertEquals(false, added.json().at("/properties/isVerified").asBoolean());

        openssl(work, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "proof.key", "-out", "proof.csr", "-subj", "/CN=" + code);
        openssl(work, "x509", "-req", "-in", "proof.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "proof.pem", "-days", "1");
        CliResult verified = iothub("ca", "verify", "cli-ca", work.resolve("proof.pem").toString());
        assertEquals(0, verified.status(), verified.err());
        assertTrue(verified.out().contains("verified:") && verified.out().contains("true"), verified.out());
        CliResult listed = iothub("ca", "list");
        assertTrue(listed.out().contains("cli-ca") && listed.out().contains("verified"), listed.out());

        CliResult replay = iothub("ca", "verify", "cli-ca", work.resolve("proof.pem").toString());
        assertEquals(1, replay.status(), "a used code cannot be replayed");
        assertEquals(0, iothub("ca", "delete", "cli-ca").status());
        assertEquals(1, iothub("ca", "show", "cli-ca").status());
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), output);
    }
}
