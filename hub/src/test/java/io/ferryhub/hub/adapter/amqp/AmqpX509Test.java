package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.TestPki;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * X.509 devices over AMQPS as the Java device SDK connects them: a TLS client certificate, no SASL layer, no
 * $cbs token; the links themselves name the device.
 */
class AmqpX509Test {
    @TempDir
    static Path dataDir;
    static HubServer hub;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static void registerSelfSigned(String deviceId, TestPki.Issued certificate) throws Exception {
        hub.registry().putDevice(deviceId, new Device(deviceId, null, null, null, null, null,
                new Authentication(Authentication.SELF_SIGNED, null,
                        new Authentication.X509Thumbprint(certificate.sha1(), null)), false, null, null), null);
    }

    private static ProtonClient presenting(TestPki.Issued certificate) throws Exception {
        ProtonClient client = new ProtonClient(TestPki.client(certificate,
                new X509Certificate[]{certificate.certificate()}, hub.caCertificatePath()), hub.amqpPort(),
                ProtonClient.SaslMode.NONE, null, null);
        assertTrue(client.awaitOpen());
        return client;
    }

    @Test
    void selfSignedDeviceSendsTelemetryAndUsesItsTwinWithNoToken() throws Exception {
        TestPki.Issued certificate = TestPki.selfSigned("x509-amqp", false);
        registerSelfSigned("x509-amqp", certificate);
        HubTestSupport.register(hub, "x509-neighbour");
        try (ProtonClient client = presenting(certificate)) {
            Sender telemetry = client.openSender("/devices/x509-amqp/messages/events");
            assertNull(telemetry.getRemoteCondition().getCondition());
            assertInstanceOf(Accepted.class, client.send(telemetry, ProtonClient.message("{\"t\":1}")));
            assertTrue(hub.deviceConnections().isConnected("x509-amqp", null));

            Sender twinRequests = client.openSender("/devices/x509-amqp/twin");
            Receiver twinReplies = client.openReceiver("/devices/x509-amqp/twin", 5);
            Message get = ProtonClient.message("");
            Properties properties = new Properties();
            UUID id = UUID.randomUUID();
            properties.setCorrelationId(id);
            get.setProperties(properties);
            get.setMessageAnnotations(new MessageAnnotations(Map.of(Symbol.valueOf("operation"), "GET")));
            assertInstanceOf(Accepted.class, client.send(twinRequests, get));
            Message twin = client.receive(twinReplies, true);
            assertNotNull(twin);
            assertEquals(id, twin.getCorrelationId());
            assertEquals(200, ((Number) twin.getMessageAnnotations().getValue().get(Symbol.valueOf("status")))
                    .intValue());

            // the certificate proves this device only
            Sender foreign = client.openSender("/devices/x509-neighbour/messages/events");
            ErrorCondition refused = client.awaitDetach(foreign);
            assertNotNull(refused);
            assertEquals("amqp:unauthorized-access", refused.getCondition().toString());
        }
    }

    @Test
    void aCertificateThatMatchesNoThumbprintIsRefused() throws Exception {
        TestPki.Issued registered = TestPki.selfSigned("x509-other", false);
        registerSelfSigned("x509-other", registered);
        TestPki.Issued stranger = TestPki.selfSigned("x509-other", false);
        try (ProtonClient client = presenting(stranger)) {
            Sender telemetry = client.openSender("/devices/x509-other/messages/events");
            ErrorCondition refused = client.awaitDetach(telemetry);
            assertNotNull(refused);
            assertEquals("amqp:unauthorized-access", refused.getCondition().toString());
        }
        // and a certificate is no way into a SAS device
        String key = HubTestSupport.register(hub, "x509-sas-only");
        assertNotNull(key);
        try (ProtonClient client = presenting(registered)) {
            Sender telemetry = client.openSender("/devices/x509-sas-only/messages/events");
            assertEquals("amqp:unauthorized-access", client.awaitDetach(telemetry).getCondition().toString());
        }
    }
}
