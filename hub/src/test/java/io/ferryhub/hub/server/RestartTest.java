package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.sas.ConnectionString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a restart must keep: identities, keys, etags, policies, certificates; and what it must refuse. */
class RestartTest {
    @TempDir
    Path dataDir;

    @Test
    void registryPoliciesAndCertificatesSurviveARestart() throws Exception {
        JsonNode device;
        JsonNode module;
        String ownerKey;
        byte[] ca;
        byte[] serverCert;
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            assertTrue(hub.isFirstStart());
            RestClient rest = new RestClient(hub);
            device = rest.owner("PUT", "/devices/keep-me", "{\"status\":\"disabled\",\"statusReason\":\"why\"}").json();
            module = rest.owner("PUT", "/devices/keep-me/modules/m", "{}").json();
            rest.owner("PUT", "/devices/drop-me", "{}");
            assertEquals(204, rest.owner("DELETE", "/devices/drop-me", null).status());
            ownerKey = hub.policies().find("iothubowner").orElseThrow().primaryKey();
            ca = Files.readAllBytes(hub.caCertificatePath());
            serverCert = Files.readAllBytes(dataDir.resolve("server.pem"));
            Path secret = dataDir.resolve(HubServer.OWNER_CONNECTION_STRING_FILE);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
            ConnectionString cs = ConnectionString.parse(Files.readString(secret).trim());
            assertEquals("iothubowner", cs.sharedAccessKeyName().orElseThrow());
            assertEquals(ownerKey, cs.sharedAccessKey().orElseThrow());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    dataDir.resolve("ca-key.pem"))));
        }
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            assertFalse(hub.isFirstStart());
            assertEquals(ownerKey, hub.policies().find("iothubowner").orElseThrow().primaryKey());
            assertArrayEquals(ca, Files.readAllBytes(hub.caCertificatePath()));
            assertArrayEquals(serverCert, Files.readAllBytes(dataDir.resolve("server.pem")));
            RestClient rest = new RestClient(hub);
            JsonNode again = rest.owner("GET", "/devices/keep-me", null).json();
            for (String field : new String[]{"deviceId", "generationId", "etag", "status", "statusReason",
                    "statusUpdatedTime", "authentication"}) {
                assertEquals(device.get(field), again.get(field), field);
            }
            assertEquals(module.get("authentication"), rest.owner("GET", "/devices/keep-me/modules/m", null).json()
                    .get("authentication"));
            assertEquals(404, rest.owner("GET", "/devices/drop-me", null).status());
            JsonNode stats = rest.owner("GET", "/statistics/devices", null).json();
            assertEquals(1, stats.get("totalDeviceCount").asInt());
            assertEquals(1, stats.get("disabledDeviceCount").asInt());
        }
    }

    @Test
    void anotherNameReissuesTheServerCertificateFromTheSameCa() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            assertTrue(hub.httpsPort() > 0);
        }
        byte[] ca = Files.readAllBytes(dataDir.resolve("ca.pem"));
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("hub.example.test"))) {
            assertArrayEquals(ca, Files.readAllBytes(hub.caCertificatePath()));
            var sans = io.ferryhub.hub.server.tls.HubPki.readCertificates(dataDir.resolve("server.pem")).get(0)
                    .getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList();
            assertTrue(sans.contains("hub.example.test"), sans.toString());
            assertTrue(sans.contains("localhost"), sans.toString());
            assertTrue(sans.contains("127.0.0.1"), sans.toString());
            // the JDK client dials the new name's certificate through localhost; trust still comes from ca.pem
            assertEquals(200, new RestClient(hub).owner("GET", "/statistics/devices", null).status());
        }
    }

    @Test
    void aSecondHubOnTheSameDataDirectoryIsRefusedClearly() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            HubStartException e = org.junit.jupiter.api.Assertions.assertThrows(HubStartException.class,
                    () -> HubServer.start(HubConfig.ephemeral(dataDir)));
            assertTrue(e.getMessage().contains("in use by another running hub"), e.getMessage());
            assertEquals(200, new RestClient(hub).owner("GET", "/statistics/devices", null).status());
        }
    }

    /** The operator's own certificate (here made with openssl) replaces the generated PKI. */
    @Test
    void operatorSuppliedCertificateIsServed(@TempDir Path certDir) throws Exception {
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .directory(certDir.toFile()).redirectErrorStream(true).start();
        String output = new String(openssl.getInputStream().readAllBytes());
        assertEquals(0, openssl.waitFor(), output);
        HubConfig config = HubConfig.ephemeral(dataDir).withTls(certDir.resolve("cert.pem"), certDir.resolve("key.pem"));
        try (HubServer hub = HubServer.start(config)) {
            org.junit.jupiter.api.Assertions.assertNull(hub.caCertificatePath());
            assertFalse(Files.exists(dataDir.resolve("ca.pem")), "no CA generated when the operator brings one");
            assertEquals(200, new RestClient(hub, certDir.resolve("cert.pem")).owner("GET", "/statistics/devices",
                    null).status());
        }
        HubStartException e = org.junit.jupiter.api.Assertions.assertThrows(HubStartException.class,
                () -> HubServer.start(HubConfig.ephemeral(dataDir).withTls(certDir.resolve("cert.pem"),
                        certDir.resolve("missing.pem"))));
        assertTrue(e.getMessage().contains("missing.pem") || e.getMessage().contains("key"), e.getMessage());
    }
}
