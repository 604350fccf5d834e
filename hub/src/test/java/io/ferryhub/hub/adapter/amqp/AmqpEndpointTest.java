package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.c2d.FeedbackRecord;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;
import java.time.Duration;

/** The AMQPS listener against a Proton-J client over real TLS: each auth path, each link type, each refusal. */
class AmqpEndpointTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        tls = SSLContext.getInstance("TLSv1.2");
        tls.init(null, HubTestSupport.trustManagers(hub.caCertificatePath()), null);
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static String register(String deviceId) {
        return HubTestSupport.register(hub, deviceId);
    }

    private static String deviceToken(String deviceId, String key, Instant expiry) {
        return HubTestSupport.deviceToken(hub, deviceId, key, expiry);
    }

    private static String serviceToken() {
        return HubTestSupport.ownerToken(hub);
    }

    private static List<StoredEvent> eventsOf(String deviceId) throws Exception {
        return HubTestSupport.eventsOf(hub, deviceId);
    }

    private static ProtonClient client(ProtonClient.SaslMode mode) throws Exception {
        return new ProtonClient(tls, hub.amqpPort(), mode, null, null);
    }

    private static Message telemetry(String messageId, String body) {
        Message m = ProtonClient.message(body);
        Properties properties = new Properties();
        properties.setMessageId(messageId);
        m.setProperties(properties);
        m.setApplicationProperties(new ApplicationProperties(Map.of("k1", "v1")));
        return m;
    }

    @Test
    void anonymousSaslThenCbsAuthorisesTelemetryAndCloudToDevice() throws Exception {
        String key = register("amqp-d1");
        try (ProtonClient c = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(c.awaitOpen());
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d1",
                    deviceToken("amqp-d1", key, Instant.now().plusSeconds(3600))));
            Sender events = c.openSender("/devices/amqp-d1/messages/events");
            assertNull(events.getRemoteCondition() == null ? null : events.getRemoteCondition().getCondition());
            assertInstanceOf(Accepted.class, c.send(events, telemetry("m-1", "hello")));

            for (String id : List.of("a", "b", "c")) {
                hub.cloudToDevice().send("amqp-d1", new OutgoingMessage(id, null, null, "full", null,
                        Map.of("color", "red"), ("c2d-" + id).getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            }
            Receiver c2d = c.openReceiver("/devices/amqp-d1/messages/devicebound", 10);
            Message a = c.receive(c2d, false);
            assertNotNull(a);
            assertEquals("a", a.getMessageId());
            assertEquals("red", a.getApplicationProperties().getValue().get("color"));
            assertEquals("c2d-a", new String(((Data) a.getBody()).getValue().getArray(), StandardCharsets.UTF_8)
                    .substring(0, 5));
            var deliveryA = c.lastDelivery;
            Message b = c.receive(c2d, false);
            var deliveryB = c.lastDelivery;
            Message cMsg = c.receive(c2d, false);
            var deliveryC = c.lastDelivery;
            assertEquals("b", b.getMessageId());
            assertEquals("c", cMsg.getMessageId());
            c.settle(deliveryA, Accepted.getInstance());
            c.settle(deliveryB, new Rejected());
            c.settle(deliveryC, Released.getInstance());
            // released is abandon: the message comes again
            Message again = c.receive(c2d, true);
            assertEquals("c", again.getMessageId());
        }
        List<StoredEvent> events = eventsOf("amqp-d1");
        assertEquals(1, events.size());
        assertEquals("hello", new String(events.get(0).data().body(), StandardCharsets.UTF_8));
        assertEquals("m-1", events.get(0).data().systemProperties().get("message-id"));
        assertEquals("v1", events.get(0).data().applicationProperties().get("k1"));
        Map<String, String> feedback = feedbackStatuses(3);
        assertEquals("Success", feedback.get("a"));
        assertEquals("Rejected", feedback.get("b"));
        assertEquals("Success", feedback.get("c"));
    }

    private static Map<String, String> feedbackStatuses(int atLeast) throws Exception {
        Map<String, String> statuses = new java.util.HashMap<>();
        Await.within(Duration.ofSeconds(30), () -> {
            var batch = hub.cloudToDevice().receiveFeedback().get(30, TimeUnit.SECONDS);
            if (batch.isPresent()) {
                for (FeedbackRecord r : batch.get().records()) {
                    statuses.put(r.originalMessageId(), r.statusCode());
                }
                hub.cloudToDevice().completeFeedback(batch.get().lockToken()).get(30, TimeUnit.SECONDS);
            }
            return statuses.size() >= atLeast;
        });
        return statuses;
    }

    @Test
    void noSaslLayerWithCbsAndModuleTelemetry() throws Exception {
        register("amqp-d2");
        String moduleKey = hub.registry().putModule("amqp-d2", "m1", new Module("amqp-d2", "m1", null, null, null,
                null), null).authentication().symmetricKey().primaryKey();
        try (ProtonClient c = client(ProtonClient.SaslMode.NONE)) {
            assertTrue(c.awaitOpen());
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d2/modules/m1", SasToken.create(
                    hub.hostName() + "/devices/amqp-d2/modules/m1", moduleKey, null, Instant.now().plusSeconds(600))));
            Sender events = c.openSender("/devices/amqp-d2/modules/m1/messages/events");
            assertInstanceOf(Accepted.class, c.send(events, telemetry("m-2", "from module")));
            // the module's token does not cover its device
            Sender device = c.openSender("/devices/amqp-d2/messages/events");
            ErrorCondition refused = c.awaitDetach(device);
            assertNotNull(refused);
            assertEquals(AmqpErrors.UNAUTHORIZED, refused.getCondition());
        }
        List<StoredEvent> events = eventsOf("amqp-d2");
        assertEquals(1, events.size());
        assertEquals("m1", events.get(0).data().systemProperties().get("iothub-connection-module-id"));
    }

    /**
     * The Node SDKs put their token's {@code sr} as the CBS audience, percent-encoded whole
     * ({@code host%2Fdevices%2Fd1}): decoded once, as a token's {@code sr} is, it names the device or module, not
     * the service. A device id with a {@code %} of its own is not decoded twice.
     */
    @Test
    void aPercentEncodedAudienceNamesItsDeviceOrModule() throws Exception {
        for (String clientId : List.of("amqp-enc-1", "amqp-enc-2/m1", "amqp%41enc")) {
            String key = HubTestSupport.register(hub, clientId);
            String token = deviceToken(clientId, key, Instant.now().plusSeconds(600));
            String audience = SasToken.parse(token).rawResource();
            assertTrue(audience.contains("%2F"), audience);
            String[] ids = clientId.split("/");
            String node = "/devices/" + ids[0].replace("%", "%25") + (ids.length > 1 ? "/modules/" + ids[1] : "")
                    + "/messages/events";
            try (ProtonClient c = client(ProtonClient.SaslMode.NONE)) {
                assertTrue(c.awaitOpen());
                assertEquals(200, c.putToken(audience, token), clientId);
                Sender events = c.openSender(node);
                assertInstanceOf(Accepted.class, c.send(events, telemetry("enc-" + clientId, "encoded audience")),
                        clientId);
            }
            List<StoredEvent> events = eventsOf(ids[0]);
            assertEquals(1, events.size(), clientId);
            assertEquals("enc-" + clientId, events.get(0).data().systemProperties().get("message-id"));
            assertEquals(ids[0], events.get(0).data().systemProperties().get("iothub-connection-device-id"));
        }
    }

    @Test
    void saslPlainLogsInADeviceAndRefusesABadPassword() throws Exception {
        String key = register("amqp-d3");
        String hubName = hub.hostName().split("\\.")[0];
        try (ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN,
                "amqp-d3@sas." + hubName, deviceToken("amqp-d3", key, Instant.now().plusSeconds(600)))) {
            assertTrue(c.awaitOpen());
            Sender events = c.openSender("/devices/amqp-d3/messages/events");
            assertInstanceOf(Accepted.class, c.send(events, telemetry("m-3", "plain")));
        }
        assertEquals(1, eventsOf("amqp-d3").size());
        try (ProtonClient bad = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN,
                "amqp-d3@sas." + hubName, "SharedAccessSignature sr=x&sig=y&se=1")) {
            var sasl = bad.transport.sasl();
            assertTrue(bad.pumpUntil(() -> sasl.getOutcome() != org.apache.qpid.proton.engine.Sasl.SaslOutcome.PN_SASL_NONE));
            assertEquals(org.apache.qpid.proton.engine.Sasl.SaslOutcome.PN_SASL_AUTH, sasl.getOutcome());
            assertTrue(bad.connection.getRemoteState() != org.apache.qpid.proton.engine.EndpointState.ACTIVE);
        }
    }

    @Test
    void aFailedSaslLoginClosesTheConnectionOnceTheOutcomeIsSent() throws Exception {
        String key = register("amqp-d9");
        String hubName = hub.hostName().split("\\.")[0];
        // a wrong key, and a user name that is no identity: both refused, both closed, well before the deadline
        for (String[] login : List.of(
                new String[]{"amqp-d9@sas." + hubName, deviceToken("amqp-d9", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                        Instant.now().plusSeconds(600))},
                new String[]{"nobody-in-particular", deviceToken("amqp-d9", key, Instant.now().plusSeconds(600))})) {
            try (ProtonClient bad = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN, login[0],
                    login[1])) {
                var sasl = bad.transport.sasl();
                assertTrue(bad.pumpUntil(() -> sasl.getOutcome()
                        != org.apache.qpid.proton.engine.Sasl.SaslOutcome.PN_SASL_NONE));
                assertEquals(org.apache.qpid.proton.engine.Sasl.SaslOutcome.PN_SASL_AUTH, sasl.getOutcome());
                assertTrue(bad.awaitEndOfStream(15_000), "the hub must close the connection after a failed login ("
                        + login[0] + ")");
            }
        }
    }

    @Test
    void refusals() throws Exception {
        String key = register("amqp-d4");
        register("amqp-d5");
        try (ProtonClient c = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(c.awaitOpen());
            // no token yet
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(c.openSender("/devices/amqp-d4/messages/events")).getCondition());
            // a bad token
            assertEquals(401, c.putToken(hub.hostName() + "/devices/amqp-d4",
                    deviceToken("amqp-d4", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Instant.now().plusSeconds(60))));
            // an expired one
            assertEquals(401, c.putToken(hub.hostName() + "/devices/amqp-d4",
                    deviceToken("amqp-d4", key, Instant.now().minusSeconds(60))));
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d4",
                    deviceToken("amqp-d4", key, Instant.now().plusSeconds(600))));
            // another device's address
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(c.openSender("/devices/amqp-d5/messages/events")).getCondition());
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(c.openReceiver("/devices/amqp-d5/messages/devicebound", 1)).getCondition());
            // a device token is not a service token
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(c.openSender("/messages/devicebound")).getCondition());
            // unknown nodes
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(c.openSender("/nothing/here")).getCondition());
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(c.openReceiver("/nothing/here", 1)).getCondition());
        }
        assertTrue(eventsOf("amqp-d5").isEmpty());
    }

    @Test
    void anExpiringTokenCutsItsLinksAndRenewalKeepsThem() throws Exception {
        String key = register("amqp-d6");
        try (ProtonClient c = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(c.awaitOpen());
            // renewed before it expires: the link survives the first expiry
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d6",
                    deviceToken("amqp-d6", key, Instant.now().plusSeconds(2))));
            Sender events = c.openSender("/devices/amqp-d6/messages/events");
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d6",
                    deviceToken("amqp-d6", key, Instant.now().plusSeconds(5))));
            ErrorCondition cut = c.awaitDetach(events);
            assertNotNull(cut, "the link must be detached when the renewed token expires");
            assertEquals(AmqpErrors.UNAUTHORIZED, cut.getCondition());
        }
    }

    @Test
    void serviceSendsCloudToDeviceAndReadsFeedback() throws Exception {
        register("amqp-d7");
        try (ProtonClient service = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(service.awaitOpen());
            assertEquals(200, service.putToken(hub.hostName(), serviceToken()));
            Sender sender = service.openSender("/messages/devicebound");
            Message m = ProtonClient.message("to the device");
            Properties properties = new Properties();
            properties.setMessageId("svc-1");
            properties.setTo("/devices/amqp-d7/messages/devicebound");
            m.setProperties(properties);
            m.setApplicationProperties(new ApplicationProperties(Map.of("iothub-ack", "full")));
            assertInstanceOf(Accepted.class, service.send(sender, m));
            // an unknown device
            Message lost = ProtonClient.message("x");
            Properties p2 = new Properties();
            p2.setTo("/devices/nobody/messages/devicebound");
            lost.setProperties(p2);
            DeliveryState refused = service.send(sender, lost);
            assertInstanceOf(Rejected.class, refused);
            assertEquals(AmqpErrors.NOT_FOUND, ((Rejected) refused).getError().getCondition());

            var polled = hub.cloudToDevice().receive("amqp-d7",
                    hub.registry().device("amqp-d7").generationId()).get(30, TimeUnit.SECONDS).orElseThrow();
            assertEquals("svc-1", polled.message().messageId());
            hub.cloudToDevice().complete("amqp-d7", polled.lockToken()).get(30, TimeUnit.SECONDS);

            Receiver feedback = service.openReceiver("/messages/servicebound/feedback", 1);
            Message batch = service.receive(feedback, true);
            assertNotNull(batch);
            String json = new String(((Binary) ((Data) batch.getBody()).getValue()).getArray(), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"originalMessageId\":\"svc-1\"") && json.contains("\"statusCode\":\"Success\""),
                    json);
        }
    }

    /** The Node and Java service SDKs send a body's content type and encoding; the device gets them as sent. */
    @Test
    void contentTypeAndEncodingReachTheDevice() throws Exception {
        String key = register("amqp-ct");
        try (ProtonClient service = client(ProtonClient.SaslMode.ANONYMOUS);
             ProtonClient device = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(service.awaitOpen());
            assertEquals(200, service.putToken(hub.hostName(), serviceToken()));
            Sender sender = service.openSender("/messages/devicebound");
            Message m = ProtonClient.message("{\"on\":true}");
            Properties properties = new Properties();
            properties.setMessageId("ct-1");
            properties.setTo("/devices/amqp-ct/messages/devicebound");
            properties.setContentType(org.apache.qpid.proton.amqp.Symbol.valueOf("application/json"));
            properties.setContentEncoding(org.apache.qpid.proton.amqp.Symbol.valueOf("utf-8"));
            m.setProperties(properties);
            assertInstanceOf(Accepted.class, service.send(sender, m));

            assertTrue(device.awaitOpen());
            assertEquals(200, device.putToken(hub.hostName() + "/devices/amqp-ct",
                    deviceToken("amqp-ct", key, Instant.now().plusSeconds(600))));
            Message received = device.receive(device.openReceiver("/devices/amqp-ct/messages/devicebound", 1), true);
            assertNotNull(received);
            assertEquals("ct-1", received.getMessageId());
            assertEquals("application/json", received.getContentType());
            assertEquals("utf-8", received.getContentEncoding());
        }
    }

    @Test
    void amqpOverWebSocketIsServedBesideMqtt() throws Exception {
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                .createSocket("localhost", hub.httpsPort())) {
            socket.setSoTimeout(15_000);
            java.io.OutputStream out = socket.getOutputStream();
            // absolute-form request target, as the Java SDK's AMQPS_WS sends it
            out.write(("GET https://localhost/$iothub/websocket?iothub-no-client-cert=true HTTP/1.1\r\n"
                    + "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade,Keep-Alive\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Protocol: AMQPWSB10\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            java.io.InputStream in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            assertTrue(head.toString().startsWith("HTTP/1.1 101"), head.toString());
            assertTrue(head.toString().contains("AMQPWSB10"), head.toString());
            // RFC 6455 4.1: a client sends nothing more until it has the server's answer. Then one masked binary
            // frame carrying the AMQP protocol header with no SASL layer (mask of zeros)
            out.write(new byte[]{(byte) 0x82, (byte) 0x88, 0, 0, 0, 0, 'A', 'M', 'Q', 'P', 0, 1, 0, 0});
            out.flush();
            byte[] frameHead = in.readNBytes(2);
            assertEquals((byte) 0x82, frameHead[0]);
            byte[] amqpHeader = in.readNBytes(8);
            assertEquals("AMQP", new String(amqpHeader, 0, 4, StandardCharsets.US_ASCII));
            assertEquals(0, amqpHeader[4]); // the hub answers without a SASL layer, as the client asked
        }
    }

    @Test
    void deletingTheDeviceCutsItsLinks() throws Exception {
        String key = register("amqp-d8");
        try (ProtonClient c = client(ProtonClient.SaslMode.ANONYMOUS)) {
            assertTrue(c.awaitOpen());
            assertEquals(200, c.putToken(hub.hostName() + "/devices/amqp-d8",
                    deviceToken("amqp-d8", key, Instant.now().plusSeconds(600))));
            Receiver c2d = c.openReceiver("/devices/amqp-d8/messages/devicebound", 1);
            assertTrue(c.pumpUntil(() -> hub.deviceConnections().isConnected("amqp-d8", null)));
            hub.registry().deleteDevice("amqp-d8", null);
            ErrorCondition cut = c.awaitDetach(c2d);
            assertNotNull(cut);
            assertNotNull(cut.getCondition());
            assertTrue(!hub.deviceConnections().isConnected("amqp-d8", null));
        }
    }
}
