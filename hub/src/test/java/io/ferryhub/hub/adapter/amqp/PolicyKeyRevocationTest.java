package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.auth.SharedAccessPolicies;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shared access policy's regenerated (or deleted) key closes, at once, the AMQP service links its tokens opened:
 * the cloud-to-device sender, the feedback receiver, and the built-in endpoint's receivers of an Event Hubs client
 * that logged in with the key, each detached with {@code amqp:unauthorized-access} and the reason, their connections
 * closed. What the policy's other key opened goes on; the old key is refused from then on, the new one taken.
 */
@Timeout(120)
class PolicyKeyRevocationTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("rotate.localhost"));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
        HubTestSupport.register(hub, "rotate-d1");
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static String token(String policy, String key) {
        return SasToken.create(hub.hostName(), key, policy, Instant.now().plusSeconds(3600));
    }

    /** A service connection authorised by {@code key} of {@code policy}, with a C2D sender. */
    private static ProtonClient service(String policy, String key) throws Exception {
        ProtonClient c = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null);
        assertTrue(c.awaitOpen());
        assertEquals(200, c.putToken(hub.hostName(), token(policy, key)));
        return c;
    }

    private static Message c2d(String id) {
        Message m = ProtonClient.message("to the device");
        Properties properties = new Properties();
        properties.setMessageId(id);
        properties.setTo("/devices/rotate-d1/messages/devicebound");
        m.setProperties(properties);
        return m;
    }

    private static void assertRevoked(ErrorCondition condition, String why) {
        assertNotNull(condition, "the link was not detached");
        assertEquals(AmqpErrors.UNAUTHORIZED, condition.getCondition());
        assertEquals("revoked: " + why, condition.getDescription());
    }

    @Test
    void regeneratingThePrimaryKeyDetachesWhatItOpenedAndSparesTheSecondarysLinks() throws Exception {
        SharedAccessPolicy team = hub.policies().put("amqp-team", EnumSet.of(Permission.ServiceConnect)).policy();
        try (ProtonClient onPrimary = service("amqp-team", team.primaryKey());
             ProtonClient onSecondary = service("amqp-team", team.secondaryKey());
             ProtonClient eventHubs = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.PLAIN,
                     "amqp-team", team.primaryKey())) {
            Sender sender = onPrimary.openSender("/messages/devicebound");
            Receiver feedback = onPrimary.openReceiver("/messages/servicebound/feedback", 1);
            assertInstanceOf(Accepted.class, onPrimary.send(sender, c2d("before-1")));
            Sender spared = onSecondary.openSender("/messages/devicebound");
            assertInstanceOf(Accepted.class, onSecondary.send(spared, c2d("before-2")));
            assertTrue(eventHubs.awaitOpen());
            Receiver events = eventHubs.openReceiver(hub.eventHubName() + "/ConsumerGroups/$Default/Partitions/0",
                    1);
            assertEquals(EndpointState.ACTIVE, events.getRemoteState());
            assertEquals(EndpointState.ACTIVE, feedback.getRemoteState());

            SharedAccessPolicy rotated = hub.policies().changeKeys("amqp-team",
                    SharedAccessPolicies.KeyChange.PRIMARY);

            String why = "the shared access policy's primary key was regenerated";
            assertRevoked(onPrimary.awaitDetach(sender), why);
            assertRevoked(onPrimary.awaitDetach(feedback), why);
            assertTrue(onPrimary.awaitClosed(), "nothing else was authorised: the connection closes");
            assertEquals("revoked: " + why, onPrimary.connection.getRemoteCondition().getDescription());
            assertRevoked(eventHubs.awaitDetach(events), why);
            assertTrue(eventHubs.awaitClosed());

            assertInstanceOf(Accepted.class, onSecondary.send(spared, c2d("after")),
                    "the secondary key's connection goes on");
            assertEquals(EndpointState.ACTIVE, spared.getRemoteState());

            try (ProtonClient again = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null,
                    null)) {
                assertTrue(again.awaitOpen());
                assertEquals(401, again.putToken(hub.hostName(), token("amqp-team", team.primaryKey())),
                        "the old key is refused");
                assertEquals(200, again.putToken(hub.hostName(), token("amqp-team", rotated.primaryKey())),
                        "the new key is taken");
                assertInstanceOf(Accepted.class, again.send(again.openSender("/messages/devicebound"),
                        c2d("new-key")));
            }
        }
    }

    @Test
    void deletingThePolicyDetachesWhatEitherKeyOpened() throws Exception {
        SharedAccessPolicy team = hub.policies().put("amqp-gone", EnumSet.of(Permission.ServiceConnect)).policy();
        try (ProtonClient onPrimary = service("amqp-gone", team.primaryKey());
             ProtonClient onSecondary = service("amqp-gone", team.secondaryKey());
             ProtonClient owner = service("iothubowner", hub.policies().get("iothubowner").primaryKey())) {
            Sender a = onPrimary.openSender("/messages/devicebound");
            Sender b = onSecondary.openSender("/messages/devicebound");
            Sender ownersSender = owner.openSender("/messages/devicebound");
            assertEquals(EndpointState.ACTIVE, a.getRemoteState());
            assertEquals(EndpointState.ACTIVE, b.getRemoteState());

            hub.policies().delete("amqp-gone");

            assertRevoked(onPrimary.awaitDetach(a), "the shared access policy was deleted");
            assertRevoked(onSecondary.awaitDetach(b), "the shared access policy was deleted");
            assertInstanceOf(Accepted.class, owner.send(ownersSender, c2d("owner-goes-on")));
        }
    }
}
