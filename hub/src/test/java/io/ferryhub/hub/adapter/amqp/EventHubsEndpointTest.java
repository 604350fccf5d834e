package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in endpoint as Event Hubs clients use it, against a Proton-J client over real TLS: tokens the way
 * azure-messaging-eventhubs makes them (audience {@code amqp://{host}/{entity}}, {@code sr} URL-encoded), the
 * {@code $management} node, receivers from every kind of position, credit, consumer groups and refusals.
 */
class EventHubsEndpointTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;
    static String eh;
    static String ownerKey;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("ehhub.localhost"));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
        eh = hub.eventHubName();
        ownerKey = hub.policies().find("iothubowner").orElseThrow().primaryKey();
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    // ---- what an Event Hubs client does, by hand ---------------------------------------------------------------

    /**
     * As EventHubSharedKeyCredential: sr is the whole audience URL-encoded, signed as encoded, with the key's text
     * (not its base64-decoded bytes) as the HMAC key.
     */
    private static String ehToken(String audience, String policy, String key, Instant expiry) throws Exception {
        String sr = URLEncoder.encode(audience, StandardCharsets.UTF_8);
        String se = Long.toString(expiry.getEpochSecond());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String sig = Base64.getEncoder().encodeToString(mac.doFinal((sr + "\n" + se).getBytes(StandardCharsets.UTF_8)));
        return "SharedAccessSignature sr=" + sr + "&sig=" + URLEncoder.encode(sig, StandardCharsets.UTF_8)
                + "&se=" + se + "&skn=" + policy;
    }

    private static String audience(String entityPath) {
        return "amqp://" + hub.hostName() + "/" + entityPath;
    }

    private static String entity(String group, int partition) {
        return eh + "/ConsumerGroups/" + group + "/Partitions/" + partition;
    }

    private static ProtonClient client() throws Exception {
        ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null);
        assertTrue(c.awaitOpen());
        return c;
    }

    /** Authorises the entity (as the client does before each receiver) and attaches a receiver with a filter. */
    private static Receiver receiver(ProtonClient c, String entityPath, String selector, int credit) throws Exception {
        return receiver(c, entityPath, selector, credit, null, null);
    }

    private static Receiver receiver(ProtonClient c, String entityPath, String selector, int credit, Long epoch,
                                     Symbol[] desiredCapabilities) throws Exception {
        assertEquals(200, c.putToken(audience(entityPath), ehToken(audience(entityPath), "iothubowner", ownerKey,
                Instant.now().plusSeconds(1200))));
        return attach(c, entityPath, selector, credit, epoch, desiredCapabilities);
    }

    private static Receiver attach(ProtonClient c, String entityPath, String selector, int credit) throws Exception {
        return attach(c, entityPath, selector, credit, null, null);
    }

    /** A receiver as the client attaches it with an owner level (epoch) and desired capabilities, either null. */
    private static Receiver attach(ProtonClient c, String entityPath, String selector, int credit, Long epoch,
                                   Symbol[] desiredCapabilities) throws Exception {
        Receiver r = c.session.receiver("eh-" + UUID.randomUUID());
        if (epoch != null) {
            r.setProperties(Map.of(EventHubsLinks.EPOCH, epoch));
        }
        r.setDesiredCapabilities(desiredCapabilities);
        Source source = new Source();
        source.setAddress(entityPath);
        if (selector != null) {
            Symbol name = Symbol.valueOf("apache.org:selector-filter:string");
            source.setFilter(Map.of(name, new org.apache.qpid.proton.amqp.UnknownDescribedType(name,
                    selector)));
        }
        r.setSource(source);
        Target target = new Target();
        target.setAddress("reader-" + UUID.randomUUID());
        r.setTarget(target);
        r.setSenderSettleMode(SenderSettleMode.UNSETTLED);
        r.setReceiverSettleMode(ReceiverSettleMode.SECOND);
        r.open();
        r.flow(credit);
        c.pumpUntil(() -> r.getRemoteState() != EndpointState.UNINITIALIZED);
        return r;
    }

    private static List<Message> receive(ProtonClient c, Receiver r, int count) throws Exception {
        List<Message> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Message m = c.receive(r, true);
            if (m == null) {
                break;
            }
            out.add(m);
        }
        return out;
    }

    /** Sends a request on $management and returns the answer. */
    private static Message manage(ProtonClient c, Map<String, Object> properties) throws Exception {
        Sender requests = c.openSender("$management");
        Receiver replies = c.session.receiver("mgmt-replies-" + UUID.randomUUID());
        Source source = new Source();
        source.setAddress("$management");
        replies.setSource(source);
        Target target = new Target();
        target.setAddress("management-client-reply-to");
        replies.setTarget(target);
        replies.open();
        replies.flow(1);
        Message request = Message.Factory.create();
        Properties p = new Properties();
        p.setMessageId(new UnsignedLong(7));
        p.setReplyTo("management-client-reply-to");
        request.setProperties(p);
        request.setApplicationProperties(new ApplicationProperties(properties));
        c.send(requests, request);
        Message reply = c.receive(replies, true);
        assertNotNull(reply, "no management reply");
        assertEquals(new UnsignedLong(7), reply.getCorrelationId());
        return reply;
    }

    private static Map<String, Object> read(String type, String partition, String token) {
        Map<String, Object> props = new HashMap<>();
        props.put("operation", "READ");
        props.put("type", type);
        props.put("name", eh);
        if (partition != null) {
            props.put("partition", partition);
        }
        props.put("security_token", token);
        return props;
    }

    private static int status(Message reply) {
        return (Integer) reply.getApplicationProperties().getValue().get("status-code");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(Message reply) {
        return (Map<String, Object>) ((AmqpValue) reply.getBody()).getValue();
    }

    private static String managementToken() throws Exception {
        return ehToken(audience(eh), "iothubowner", ownerKey, Instant.now().plusSeconds(600));
    }

    // ---- devices ----------------------------------------------------------------------------------------------

    /** Sends telemetry as a device over AMQP; returns the partition it landed on (the one that grew). */
    private static int sendTelemetry(String deviceId, int count, String prefix) throws Exception {
        String key = HubTestSupport.register(hub, deviceId);
        long[] before = lastSequenceNumbers();
        try (ProtonClient device = client()) {
            assertEquals(200, device.putToken(hub.hostName() + "/devices/" + deviceId,
                    HubTestSupport.deviceToken(hub, deviceId, key)));
            Sender events = device.openSender("/devices/" + deviceId + "/messages/events");
            for (int i = 0; i < count; i++) {
                Message m = Message.Factory.create();
                Properties properties = new Properties();
                properties.setMessageId(prefix + "-" + i);
                properties.setCorrelationId("corr-" + i);
                properties.setContentType(Symbol.valueOf("application/json"));
                properties.setContentEncoding(Symbol.valueOf("utf-8"));
                m.setProperties(properties);
                m.setApplicationProperties(new ApplicationProperties(Map.of("index", Integer.toString(i),
                        "color", "blue")));
                m.setBody(new Data(new Binary(("{\"n\":" + i + ",\"p\":\"" + prefix + "\"}")
                        .getBytes(StandardCharsets.UTF_8))));
                assertInstanceOf(Accepted.class, device.send(events, m));
            }
        }
        long[] after = lastSequenceNumbers();
        for (int p = 0; p < after.length; p++) {
            if (after[p] != before[p]) {
                return p;
            }
        }
        throw new AssertionError("no partition grew");
    }

    private static long[] lastSequenceNumbers() {
        long[] out = new long[hub.eventStream().partitionCount()];
        for (int p = 0; p < out.length; p++) {
            out[p] = hub.eventStream().partitionInfo(p).lastSequenceNumber();
        }
        return out;
    }

    /** Keeps the connection going for a while: what the hub sends meanwhile arrives. */
    private static void pumpFor(ProtonClient c, long millis) throws Exception {
        long until = System.currentTimeMillis() + millis;
        c.pumpUntil(() -> System.currentTimeMillis() >= until);
    }

    private static Object annotation(Message m, String name) {
        return m.getMessageAnnotations().getValue().get(Symbol.valueOf(name));
    }

    private static String bodyText(Message m) {
        Binary b = ((Data) m.getBody()).getValue();
        return new String(b.getArray(), b.getArrayOffset(), b.getLength(), StandardCharsets.UTF_8);
    }

    // ---- tests ------------------------------------------------------------------------------------------------

    @Test
    void theOwnerConnectionStringHasAnEventHubsTwinInTheDataDirectory() throws Exception {
        String text = Files.readString(dataDir.resolve(HubServer.EVENT_HUBS_CONNECTION_STRING_FILE)).trim();
        assertEquals("Endpoint=sb://ehhub.localhost/;SharedAccessKeyName=iothubowner;SharedAccessKey=" + ownerKey
                + ";EntityPath=ehhub", text);
        assertEquals("ehhub", eh);
    }

    @Test
    void managementNodeDescribesTheEventHubAndItsPartitions() throws Exception {
        int partition = sendTelemetry("eh-mgmt", 2, "mgmt");
        try (ProtonClient c = client()) {
            Message hubInfo = manage(c, read("com.microsoft:eventhub", null, managementToken()));
            assertEquals(200, status(hubInfo));
            Map<String, Object> info = body(hubInfo);
            assertEquals(eh, info.get("name"));
            assertEquals(4, info.get("partition_count"));
            assertArrayEquals(new String[]{"0", "1", "2", "3"}, (String[]) info.get("partition_ids"));
            assertInstanceOf(Date.class, info.get("created_at"));

            Message partitionInfo = manage(c, read("com.microsoft:partition", Integer.toString(partition),
                    managementToken()));
            assertEquals(200, status(partitionInfo));
            Map<String, Object> p = body(partitionInfo);
            var stored = hub.eventStream().partitionInfo(partition);
            assertEquals(Integer.toString(partition), p.get("partition"));
            assertEquals(stored.beginSequenceNumber(), p.get("begin_sequence_number"));
            assertEquals(stored.lastSequenceNumber(), p.get("last_enqueued_sequence_number"));
            assertEquals(Long.toString(stored.lastOffset()), p.get("last_enqueued_offset"));
            assertEquals(new Date(stored.lastEnqueuedTimeMillis()), p.get("last_enqueued_time_utc"));
            assertEquals(Boolean.FALSE, p.get("is_partition_empty"));

            // a hub-scoped token as IoT Hub's service SDKs make it (key decoded) is good for the event hub too
            assertEquals(200, status(manage(c, read("com.microsoft:eventhub", null, HubTestSupport.ownerToken(hub)))));
            assertEquals(404, status(manage(c, read("com.microsoft:partition", "9", managementToken()))));
            Map<String, Object> wrongName = read("com.microsoft:eventhub", null, managementToken());
            wrongName.put("name", "other");
            assertEquals(404, status(manage(c, wrongName)));
            Map<String, Object> write = read("com.microsoft:eventhub", null, managementToken());
            write.put("operation", "DELETE");
            assertEquals(400, status(manage(c, write)));
            String forged = ehToken(audience(eh), "iothubowner", Base64.getEncoder().encodeToString(new byte[32]),
                    Instant.now().plusSeconds(60));
            Message refused = manage(c, read("com.microsoft:eventhub", null, forged));
            assertEquals(401, status(refused));
            assertNull(refused.getBody());
        }
    }

    @Test
    void readsFromEachKindOfPositionWithIoTHubsAnnotations() throws Exception {
        int partition = sendTelemetry("eh-pos", 5, "pos");
        String entity = entity("$Default", partition);
        try (ProtonClient c = client()) {
            List<Message> all = new ArrayList<>();
            for (Message m : receive(c, receiver(c, entity, "amqp.annotation.x-opt-offset > '-1'", 500),
                    (int) hub.eventStream().partitionInfo(partition).lastSequenceNumber() + 1)) {
                if ("eh-pos".equals(annotation(m, "iothub-connection-device-id"))) {
                    all.add(m);
                }
            }
            assertEquals(5, all.size());
            Message first = all.get(0);
            assertEquals("pos-0", first.getMessageId());
            assertEquals("corr-0", first.getCorrelationId());
            assertEquals("application/json", first.getContentType());
            assertEquals("utf-8", first.getContentEncoding());
            assertEquals(Map.of("index", "0", "color", "blue"), first.getApplicationProperties().getValue());
            assertEquals("{\"n\":0,\"p\":\"pos\"}", bodyText(first));
            assertEquals("Telemetry", annotation(first, "iothub-message-source"));
            assertEquals("{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\",\"acceptingIpFilterRule\":null}",
                    annotation(first, "iothub-connection-auth-method"));
            assertEquals(hub.registry().device("eh-pos").generationId(),
                    annotation(first, "iothub-connection-auth-generation-id"));
            assertNull(annotation(first, "iothub-connection-module-id"));
            assertInstanceOf(Date.class, annotation(first, "iothub-enqueuedtime"));
            assertEquals(annotation(first, "iothub-enqueuedtime"), annotation(first, "x-opt-enqueued-time"));
            assertInstanceOf(Long.class, annotation(first, "x-opt-sequence-number"));
            assertInstanceOf(String.class, annotation(first, "x-opt-offset"));
            for (int i = 1; i < all.size(); i++) {
                assertEquals((Long) annotation(all.get(i - 1), "x-opt-sequence-number") + 1,
                        annotation(all.get(i), "x-opt-sequence-number"));
            }

            String offset1 = (String) annotation(all.get(1), "x-opt-offset");
            long seq3 = (Long) annotation(all.get(3), "x-opt-sequence-number");
            Date time2 = (Date) annotation(all.get(2), "x-opt-enqueued-time");
            assertEquals("pos-2", receive(c, attach(c, entity, "amqp.annotation.x-opt-offset > '" + offset1 + "'", 1),
                    1).get(0).getMessageId());
            assertEquals("pos-1", receive(c, attach(c, entity, "amqp.annotation.x-opt-offset >= '" + offset1 + "'",
                    1), 1).get(0).getMessageId());
            assertEquals("pos-3", receive(c, attach(c, entity, "amqp.annotation.x-opt-sequence-number >= '" + seq3
                    + "'", 1), 1).get(0).getMessageId());
            assertEquals("pos-4", receive(c, attach(c, entity, "amqp.annotation.x-opt-sequence-number > '" + seq3
                    + "'", 1), 1).get(0).getMessageId());
            Message fromTime = receive(c, attach(c, entity, "amqp.annotation.x-opt-enqueued-time >= '"
                    + time2.getTime() + "'", 1), 1).get(0);
            assertTrue(((Date) annotation(fromTime, "x-opt-enqueued-time")).getTime() >= time2.getTime());

            Receiver latest = attach(c, entity, "amqp.annotation.x-opt-offset > '@latest'", 10);
            sendTelemetry("eh-pos", 1, "later");
            Message next = c.receive(latest, true);
            assertNotNull(next);
            assertEquals("later-0", next.getMessageId());
        }
    }

    @Test
    void sendsNoMoreThanTheCreditAndResumesWhenItReturns() throws Exception {
        int partition = sendTelemetry("eh-credit", 4, "credit");
        long seq = hub.eventStream().partitionInfo(partition).lastSequenceNumber() - 3;
        try (ProtonClient c = client()) {
            Receiver r = receiver(c, entity("$Default", partition), "amqp.annotation.x-opt-sequence-number >= '"
                    + seq + "'", 1);
            assertEquals("credit-0", c.receive(r, true).getMessageId());
            pumpFor(c, 500);
            assertNull(r.current(), "a delivery beyond the credit");
            assertEquals(0, r.getCredit());
            r.flow(3);
            assertEquals(List.of("credit-1", "credit-2", "credit-3"),
                    receive(c, r, 3).stream().map(m -> (String) m.getMessageId()).toList());
        }
    }

    @Test
    void consumerGroupsReadIndependently() throws Exception {
        hub.eventStream().createConsumerGroup("analytics");
        int partition = sendTelemetry("eh-groups", 3, "groups");
        long seq = hub.eventStream().partitionInfo(partition).lastSequenceNumber() - 2;
        String selector = "amqp.annotation.x-opt-sequence-number >= '" + seq + "'";
        try (ProtonClient c = client()) {
            Receiver defaults = receiver(c, entity("$Default", partition), selector, 10);
            Receiver analytics = receiver(c, entity("analytics", partition), selector, 10);
            List<String> expected = List.of("groups-0", "groups-1", "groups-2");
            assertEquals(expected, receive(c, analytics, 3).stream().map(m -> (String) m.getMessageId()).toList());
            assertEquals(expected, receive(c, defaults, 3).stream().map(m -> (String) m.getMessageId()).toList());
        }
    }

    @Test
    void refusesWhatIsNotThereOrNotAuthorised() throws Exception {
        try (ProtonClient c = client()) {
            // no token yet
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(attach(c, entity("$Default", 0), null, 1)).getCondition());
            // a token signed with the wrong key, and one for a policy without ServiceConnect
            String forged = ehToken(audience(entity("$Default", 0)), "iothubowner",
                    Base64.getEncoder().encodeToString(new byte[32]), Instant.now().plusSeconds(60));
            assertEquals(401, c.putToken(audience(entity("$Default", 0)), forged));
            String registryRead = hub.policies().find("registryRead").orElseThrow().primaryKey();
            assertEquals(401, c.putToken(audience(eh), ehToken(audience(eh), "registryRead", registryRead,
                    Instant.now().plusSeconds(60))));
            // a token for one partition does not cover another
            assertEquals(200, c.putToken(audience(entity("$Default", 0)), ehToken(audience(entity("$Default", 0)),
                    "iothubowner", ownerKey, Instant.now().plusSeconds(60))));
            assertEquals(AmqpErrors.UNAUTHORIZED,
                    c.awaitDetach(attach(c, entity("$Default", 1), null, 1)).getCondition());
            // one for the whole event hub covers every group and partition that exists
            assertEquals(200, c.putToken(audience(eh), ehToken(audience(eh), "iothubowner", ownerKey,
                    Instant.now().plusSeconds(60))));
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(attach(c, entity("nosuchgroup", 0), null, 1))
                    .getCondition());
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(attach(c, entity("$Default", 4), null, 1))
                    .getCondition());
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(attach(c, entity("$Default", -1), null, 1))
                    .getCondition());
            assertEquals(AmqpErrors.NOT_FOUND, c.awaitDetach(attach(c,
                    "otherhub/ConsumerGroups/$Default/Partitions/0", null, 1)).getCondition());
            ErrorCondition badFilter = c.awaitDetach(attach(c, entity("$Default", 0),
                    "amqp.annotation.x-opt-color > 'red'", 1));
            assertEquals(Symbol.valueOf("com.microsoft:argument-error"), badFilter.getCondition());
            Sender writer = c.openSender(entity("$Default", 0));
            assertEquals(AmqpErrors.NOT_ALLOWED, c.awaitDetach(writer).getCondition());
        }
    }

    @Test
    void saslPlainWithAPolicysNameAndKeyAuthorisesTheEventHub() throws Exception {
        int partition = sendTelemetry("eh-plain", 1, "plain");
        long seq = hub.eventStream().partitionInfo(partition).lastSequenceNumber();
        try (ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN, "iothubowner",
                ownerKey)) {
            assertTrue(c.awaitOpen());
            Receiver r = attach(c, entity("$Default", partition), "amqp.annotation.x-opt-sequence-number >= '"
                    + seq + "'", 1);
            assertEquals(EndpointState.ACTIVE, r.getRemoteState());
            assertEquals("plain-0", c.receive(r, true).getMessageId());
        }
        String registryRead = hub.policies().find("registryRead").orElseThrow().primaryKey();
        for (String[] login : List.of(new String[]{"iothubowner", registryRead}, // another policy's key
                new String[]{"registryRead", registryRead}, // no ServiceConnect
                new String[]{"nosuchpolicy", ownerKey})) {
            try (ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN, login[0],
                    login[1])) {
                Sasl sasl = c.transport.sasl();
                assertTrue(c.pumpUntil(() -> sasl.getOutcome() != Sasl.SaslOutcome.PN_SASL_NONE));
                assertEquals(Sasl.SaslOutcome.PN_SASL_AUTH, sasl.getOutcome(), "login of " + login[0]);
                assertTrue(c.connection.getRemoteState() != EndpointState.ACTIVE);
            }
        }
    }

    @Test
    void anExpiredTokenDetachesItsReceivers() throws Exception {
        try (ProtonClient c = client()) {
            String entity = entity("$Default", 2);
            assertEquals(200, c.putToken(audience(entity), ehToken(audience(entity), "iothubowner", ownerKey,
                    Instant.now().plusSeconds(2))));
            Receiver r = attach(c, entity, "amqp.annotation.x-opt-offset > '@latest'", 10);
            assertEquals(EndpointState.ACTIVE, r.getRemoteState());
            ErrorCondition cut = c.awaitDetach(r);
            assertNotNull(cut, "the receiver outlived its token");
            assertEquals(AmqpErrors.UNAUTHORIZED, cut.getCondition());
            assertEquals(401, c.putToken(audience(entity), ehToken(audience(entity), "iothubowner", ownerKey,
                    Instant.now().minusSeconds(1))));
        }
    }
    @Test
    void anEpochReceiverTakesThePartitionFromReceiversWithALowerEpochOrNoneAndRefusesThemAfterwards()
            throws Exception {
        hub.eventStream().createConsumerGroup("owners");
        int partition = sendTelemetry("eh-epoch", 2, "epoch");
        String entity = entity("owners", partition);
        String first = "amqp.annotation.x-opt-sequence-number >= '"
                + (hub.eventStream().partitionInfo(partition).lastSequenceNumber() - 1) + "'";
        try (ProtonClient a = client(); ProtonClient b = client()) {
            Receiver plain = receiver(a, entity, first, 10);
            Receiver otherPlain = attach(a, entity, first, 10);
            assertEquals(EndpointState.ACTIVE, otherPlain.getRemoteState(), "receivers without epochs share");
            // another connection with an epoch takes the partition from both
            Receiver epoch5 = receiver(b, entity, first, 10, 5L, null);
            assertEquals(EndpointState.ACTIVE, epoch5.getRemoteState());
            for (Receiver displaced : List.of(plain, otherPlain)) {
                ErrorCondition stolen = a.awaitDetach(displaced);
                assertNotNull(stolen, "a receiver without epoch kept reading beside an epoch receiver");
                assertEquals(AmqpErrors.STOLEN, stolen.getCondition());
                assertTrue(stolen.getDescription().contains("epoch 5"), stolen.getDescription());
            }
            assertEquals(List.of("epoch-0", "epoch-1"),
                    receive(b, epoch5, 2).stream().map(m -> (String) m.getMessageId()).toList());
            // while it holds the partition, a lower epoch and no epoch are refused; another group is unaffected
            ErrorCondition lower = a.awaitDetach(attach(a, entity, first, 10, 4L, null));
            assertEquals(AmqpErrors.STOLEN, lower.getCondition());
            assertTrue(lower.getDescription().contains("epoch 5"), lower.getDescription());
            assertEquals(AmqpErrors.STOLEN, a.awaitDetach(attach(a, entity, first, 10)).getCondition());
            assertEquals(Symbol.valueOf("com.microsoft:argument-error"), a.awaitDetach(a.openReceiver(entity, 10,
                    Map.of(EventHubsLinks.EPOCH, "7"))).getCondition(), "an epoch that is not a long");
            assertEquals(EndpointState.ACTIVE, receiver(a, entity("$Default", partition), first, 10).getRemoteState());
            assertEquals(EndpointState.ACTIVE, epoch5.getRemoteState());
            // the same epoch again takes over (a restarted owner), and so does a higher one
            Receiver again5 = attach(a, entity, first, 10, 5L, null);
            assertEquals(EndpointState.ACTIVE, again5.getRemoteState());
            assertEquals(AmqpErrors.STOLEN, b.awaitDetach(epoch5).getCondition());
            Receiver epoch6 = attach(b, entity, first, 10, 6L, null);
            assertEquals(AmqpErrors.STOLEN, a.awaitDetach(again5).getCondition());
            assertEquals("epoch-0", b.receive(epoch6, true).getMessageId());
            // once the owner detaches, the partition is free for anyone
            epoch6.close();
            b.pumpUntil(() -> epoch6.getRemoteState() == EndpointState.CLOSED);
            Receiver free = attach(a, entity, first, 10);
            assertEquals(EndpointState.ACTIVE, free.getRemoteState());
            assertEquals("epoch-0", a.receive(free, true).getMessageId());
        }
    }

    /**
     * Ending a session detaches its links implicitly (AMQP 1.0): an epoch receiver whose client ends the session
     * without detaching it first no longer holds the partition, though its connection stays open.
     */
    @Test
    void anEpochReceiverWhoseSessionEndsGivesUpThePartition() throws Exception {
        hub.eventStream().createConsumerGroup("session-owners");
        int partition = sendTelemetry("eh-epoch-session", 1, "ended");
        String entity = entity("session-owners", partition);
        String first = "amqp.annotation.x-opt-sequence-number >= '"
                + hub.eventStream().partitionInfo(partition).lastSequenceNumber() + "'";
        try (ProtonClient a = client(); ProtonClient b = client()) {
            Receiver owner = receiver(b, entity, first, 10, 3L, null);
            assertEquals(EndpointState.ACTIVE, owner.getRemoteState());
            assertEquals(AmqpErrors.STOLEN, a.awaitDetach(receiver(a, entity, first, 10)).getCondition(),
                    "the epoch receiver did not hold the partition");
            b.session.close();
            assertTrue(b.pumpUntil(() -> b.session.getRemoteState() == EndpointState.CLOSED),
                    "the session did not end");
            assertEquals(EndpointState.ACTIVE, b.connection.getRemoteState(), "the connection must stay open");
            Receiver after = attach(a, entity, first, 10);
            assertEquals(EndpointState.ACTIVE, after.getRemoteState(),
                    "the partition is still held by a receiver whose session ended: " + after.getRemoteCondition());
            assertEquals("ended-0", a.receive(after, true).getMessageId());
        }
    }

    @Test
    void theRuntimeMetricAnnotatesEachEventWithThePartitionsLastEnqueuedEvent() throws Exception {
        int partition = sendTelemetry("eh-metric", 3, "metric");
        var stored = hub.eventStream().partitionInfo(partition);
        String entity = entity("$Default", partition);
        String selector = "amqp.annotation.x-opt-sequence-number >= '" + (stored.lastSequenceNumber() - 2) + "'";
        long before = System.currentTimeMillis();
        try (ProtonClient c = client()) {
            Receiver metric = receiver(c, entity, selector, 10, null, new Symbol[]{EventHubsLinks.RUNTIME_METRIC});
            assertArrayEquals(new Symbol[]{EventHubsLinks.RUNTIME_METRIC}, metric.getRemoteOfferedCapabilities());
            List<Message> events = receive(c, metric, 3);
            assertEquals(List.of("metric-0", "metric-1", "metric-2"),
                    events.stream().map(m -> (String) m.getMessageId()).toList());
            for (Message m : events) {
                Map<Symbol, Object> runtime = m.getDeliveryAnnotations().getValue();
                assertEquals(stored.lastSequenceNumber(), runtime.get(Symbol.valueOf("last_enqueued_sequence_number")));
                assertEquals(Long.toString(stored.lastOffset()), runtime.get(Symbol.valueOf("last_enqueued_offset")));
                assertEquals(new Date(stored.lastEnqueuedTimeMillis()),
                        runtime.get(Symbol.valueOf("last_enqueued_time_utc")));
                Date retrieved = (Date) runtime.get(Symbol.valueOf("runtime_info_retrieval_time_utc"));
                assertTrue(retrieved.getTime() >= before, "retrieved " + retrieved + ", before " + before);
            }
            // a receiver that did not ask gets none
            Receiver plain = attach(c, entity, selector, 10);
            assertNull(plain.getRemoteOfferedCapabilities());
            Message m = c.receive(plain, true);
            assertEquals("metric-0", m.getMessageId());
            assertNull(m.getDeliveryAnnotations());
        }
    }
}
