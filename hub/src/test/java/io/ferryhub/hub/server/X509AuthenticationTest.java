package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * X.509 devices over MQTT with TLS client certificates (Paho as the device): self-signed certificates known by
 * thumbprint, and certificates issued by a CA registered with proof of possession. Good certificates beside bad ones.
 * The HTTPS device API takes the same certificates in place of a SAS token (the JDK HTTP client as the device).
 */
class X509AuthenticationTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static RestClient rest;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        rest = new RestClient(hub);
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    /** Connects as {@code deviceId} presenting {@code chain}; returns normally only if the hub accepted. */
    static void connect(String deviceId, TestPki.Issued leaf, X509Certificate... chain) throws Exception {
        SSLContext tls = TestPki.client(leaf, chain, hub.caCertificatePath());
        MqttClient client = new MqttClient("ssl://localhost:" + hub.mqttPort(), deviceId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setUserName(hub.hostName() + "/" + deviceId + "/?api-version=2021-04-12");
        options.setSocketFactory(tls.getSocketFactory());
        options.setCleanSession(false);
        options.setConnectionTimeout(10);
        try {
            client.connect(options);
            client.disconnect();
        } finally {
            client.close(true);
        }
    }

    static void assertRefused(String deviceId, TestPki.Issued leaf, X509Certificate... chain) {
        MqttException e = assertThrows(MqttException.class, () -> connect(deviceId, leaf, chain));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, e.getReasonCode(), e.toString());
    }

    @Test
    void selfSignedCertificatesByThumbprint() throws Exception {
        TestPki.Issued primary = TestPki.selfSigned("ss-dev", false);
        TestPki.Issued secondary = TestPki.selfSigned("anything", false);
        TestPki.Issued stranger = TestPki.selfSigned("ss-dev", false);
        assertEquals(200, rest.owner("PUT", "/devices/ss-dev", "{\"authentication\":{\"type\":\"selfSigned\","
                + "\"x509Thumbprint\":{\"primaryThumbprint\":\"" + primary.sha1() + "\",\"secondaryThumbprint\":\""
                + secondary.sha256().toLowerCase() + "\"}}}").status());

        connect("ss-dev", primary, primary.certificate());
        connect("ss-dev", secondary, secondary.certificate());
        assertRefused("ss-dev", stranger, stranger.certificate());
        // a SAS device presenting a certificate is refused too
        rest.owner("PUT", "/devices/sas-only", "{}");
        assertRefused("sas-only", primary, primary.certificate());
        // disabled: refused although the certificate matches
        rest.owner("PUT", "/devices/ss-dev", "{\"status\":\"disabled\",\"authentication\":{\"type\":\"selfSigned\","
                + "\"x509Thumbprint\":{\"primaryThumbprint\":\"" + primary.sha1() + "\"}}}", Map.of("If-Match", "*"));
        assertRefused("ss-dev", primary, primary.certificate());
    }

    @Test
    void caSignedCertificatesAfterProofOfPossession() throws Exception {
        TestPki.Issued root = TestPki.selfSigned("Test Root CA", true);
        TestPki.Issued intermediate = TestPki.issue("Test Intermediate CA", root, true);
        rest.owner("PUT", "/devices/ca-dev", "{\"authentication\":{\"type\":\"certificateAuthority\"}}");
        TestPki.Issued device = TestPki.issue("ca-dev", intermediate, false);
        X509Certificate[] chain = {device.certificate(), intermediate.certificate()};

        RestClient.Reply added = rest.owner("PUT", "/certificates/test-root", Json.object().put("certificate",
                root.pem()).toString());
        assertEquals(200, added.status(), added.body());
        assertEquals(false, added.json().at("/properties/isVerified").asBoolean());
        assertEquals(root.sha1(), added.json().at("/properties/thumbprint").asText());
        assertRefused("ca-dev", device, chain); // not verified yet

        JsonNode code = rest.owner("POST", "/certificates/test-root/generateVerificationCode", null).json();
        String verificationCode = code.at("/properties/verificationCode").asText();
        assertTrue(verificationCode.length() >= 16, code.toString());

        TestPki.Issued wrongCn = TestPki.issue("not-the-code", root, false);
        RegistryRestTest.assertError(rest.owner("POST", "/certificates/test-root/verify",
                Json.object().put("certificate", wrongCn.pem()).toString()), 400, 400004, "ArgumentInvalid");
        TestPki.Issued otherRoot = TestPki.selfSigned("Other Root", true);
        TestPki.Issued forged = TestPki.issue(verificationCode, otherRoot, false);
        RegistryRestTest.assertError(rest.owner("POST", "/certificates/test-root/verify",
                Json.object().put("certificate", forged.pem()).toString()), 400, 400004, "ArgumentInvalid");

        TestPki.Issued proof = TestPki.issue(verificationCode, root, false);
        RestClient.Reply verified = rest.owner("POST", "/certificates/test-root/verify",
                Json.object().put("certificate", proof.pem()).toString());
        assertEquals(200, verified.status(), verified.body());
        assertTrue(verified.json().at("/properties/isVerified").asBoolean());

        connect("ca-dev", device, chain);
        // positive control passed; now the bad ones
        TestPki.Issued otherDevice = TestPki.issue("someone-else", intermediate, false);
        assertRefused("ca-dev", otherDevice, otherDevice.certificate(), intermediate.certificate());
        TestPki.Issued untrusted = TestPki.issue("ca-dev", TestPki.issue("Rogue CA", otherRoot, true), false);
        assertRefused("ca-dev", untrusted, untrusted.certificate());
        TestPki.Issued expired = TestPki.issue("ca-dev", intermediate, false,
                Instant.now().minus(Duration.ofDays(2)), Instant.now().minus(Duration.ofDays(1)));
        assertRefused("ca-dev", expired, expired.certificate(), intermediate.certificate());
        assertRefused("ca-dev", device, device.certificate()); // the intermediate is missing from the chain

        assertEquals(1, rest.owner("GET", "/certificates", null).json().get("value").size());
        assertEquals(204, rest.owner("DELETE", "/certificates/test-root", null).status());
        RegistryRestTest.assertError(rest.owner("GET", "/certificates/test-root", null), 404, 404020,
                "CertificateNotFound");
        assertRefused("ca-dev", device, chain); // the CA is gone
    }

    /** Posts telemetry as {@code deviceId} over HTTPS with no Authorization header, presenting {@code chain}. */
    static HttpResponse<String> postTelemetry(String deviceId, TestPki.Issued leaf, X509Certificate... chain)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(TestPki.client(leaf, chain, hub.caCertificatePath()))
                .build();
        return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + hub.httpsPort() + "/devices/"
                        + deviceId + "/messages/events?api-version=2020-09-30"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"t\":1}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void httpsDeviceApiTakesTheClientCertificateInPlaceOfAToken() throws Exception {
        TestPki.Issued certificate = TestPki.selfSigned("https-x509", false);
        TestPki.Issued stranger = TestPki.selfSigned("https-x509", false);
        assertEquals(200, rest.owner("PUT", "/devices/https-x509", "{\"authentication\":{\"type\":\"selfSigned\","
                + "\"x509Thumbprint\":{\"primaryThumbprint\":\"" + certificate.sha256() + "\"}}}").status());
        rest.owner("PUT", "/devices/https-sas", "{}");

        HttpResponse<String> sent = postTelemetry("https-x509", certificate, certificate.certificate());
        assertEquals(204, sent.statusCode(), sent.body());

        HttpResponse<String> wrongCertificate = postTelemetry("https-x509", stranger, stranger.certificate());
        assertEquals(401, wrongCertificate.statusCode());
        assertTrue(wrongCertificate.body().contains("401002"), wrongCertificate.body());
        HttpResponse<String> otherDevice = postTelemetry("https-sas", certificate, certificate.certificate());
        assertEquals(401, otherDevice.statusCode());
    }

    @Test
    void badCaRegistrations() throws Exception {
        TestPki.Issued leaf = TestPki.selfSigned("leaf", false);
        RegistryRestTest.assertError(rest.owner("PUT", "/certificates/leaf", Json.object().put("certificate",
                leaf.pem()).toString()), 400, 400004, "ArgumentInvalid");
        RegistryRestTest.assertError(rest.owner("PUT", "/certificates/garbage", "{\"certificate\":\"hello\"}"), 400,
                400004, "ArgumentInvalid");
        RegistryRestTest.assertError(rest.owner("PUT", "/certificates/empty", "{}"), 400, 400005, "ArgumentNull");
        TestPki.Issued root = TestPki.selfSigned("Root", true);
        RegistryRestTest.assertError(rest.owner("PUT", "/certificates/bad%20name", Json.object().put("certificate",
                root.pem()).toString()), 400, 400004, "ArgumentInvalid");
        rest.owner("PUT", "/certificates/no-code", Json.object().put("certificate", root.pem()).toString());
        RegistryRestTest.assertError(rest.owner("POST", "/certificates/no-code/verify", Json.object()
                .put("certificate", TestPki.issue("x", root, false).pem()).toString()), 400, 400003, "InvalidOperation");
        rest.owner("DELETE", "/certificates/no-code", null);
    }
}
