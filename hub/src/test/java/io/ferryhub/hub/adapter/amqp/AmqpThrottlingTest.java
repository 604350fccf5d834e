package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.json.Json;
import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.TrafficLimits;
import io.ferryhub.hub.service.throttling.ThrottleSettings;
import io.ferryhub.testsupport.Await;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Throttles and the daily quota on AMQP's twin links and service C2D sends, against a Proton-J client over real
 * TLS: a throttled twin request is answered with status 429 and IoT Hub's error body (the links stay), a C2D send
 * past the c2d rate is rejected as throttled (429001) and one past the day's quota as a resource limit (403002).
 */
@Timeout(120)
class AmqpThrottlingTest {
    private static final Symbol STATUS_CODE = Symbol.valueOf("status-code");

    private static HubServer start(Path dir, TrafficLimits limits) throws Exception {
        return HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits);
    }

    private static ProtonClient connect(HubServer hub, String token, String audience) throws Exception {
        SSLContext tls = HubTestSupport.trusting(hub.caCertificatePath());
        ProtonClient client = new ProtonClient(tls, hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null);
        assertTrue(client.awaitOpen());
        assertEquals(200, client.putToken(audience, token));
        return client;
    }

    private static int status(Message answer) {
        return ((Number) AmqpDeviceLinksTest.annotation(answer, "status")).intValue();
    }

    /** A twin request and its answer, with one more credit for the answer (retries outrun the link's first 10). */
    private static Message ask(ProtonClient client, AmqpDeviceLinksTest.Pair twin, String operation, String resource,
                               String body) throws Exception {
        twin.replies().flow(1);
        return AmqpDeviceLinksTest.ask(client, twin, operation, resource, body);
    }

    @Test
    void twinRequestsOverTheTwinRatesAreAnswered429AndPassOnceTheRateAllows(@TempDir Path dir) throws Exception {
        // one every 5 s, burst 1: two requests in a row are refused even on a loaded machine
        try (HubServer hub = start(dir, TrafficLimits.none().withThrottling(
                ThrottleSettings.s1().withSpec("twin-read=0.2/s,twin-update=0.2/s")))) {
            String key = HubTestSupport.register(hub, "amqp-twin-throttled");
            try (ProtonClient client = connect(hub, HubTestSupport.deviceToken(hub, "amqp-twin-throttled", key),
                    hub.hostName() + "/devices/amqp-twin-throttled")) {
                AmqpDeviceLinksTest.Pair twin = AmqpDeviceLinksTest.openPair(client,
                        "/devices/amqp-twin-throttled/twin", "twin:");
                assertEquals(200, status(ask(client, twin, "GET", null, null)));
                Message throttled = ask(client, twin, "GET", null, null);
                assertEquals(429, status(throttled));
                assertEquals(429001, Json.parse(AmqpDeviceLinksTest.bodyOf(throttled)
                        .getBytes(StandardCharsets.UTF_8)).get("errorCode").asInt());
                Await.until("a twin GET answered 200 once the rate allows",
                        () -> status(ask(client, twin, "GET", null, null)) == 200);

                Message patched = ask(client, twin, "PATCH", "/properties/reported",
                        "{\"fw\":\"1.0\"}");
                assertEquals(204, status(patched));
                assertEquals(429, status(ask(client, twin, "PATCH", "/properties/reported",
                        "{\"fw\":\"2.0\"}")));
                assertEquals("1.0", hub.twins().twin("amqp-twin-throttled", null)
                        .at("/properties/reported/fw").asText(), "the throttled patch changed nothing");
                Await.until("a reported patch answered 204 once the rate allows", () -> status(
                        ask(client, twin, "PATCH", "/properties/reported", "{\"fw\":\"2.0\"}"))
                        == 204);
                assertEquals("2.0", hub.twins().twin("amqp-twin-throttled", null)
                        .at("/properties/reported/fw").asText());
            }
        }
    }

    @Test
    void serviceC2dSendsAreThrottledAndCostDailyQuota(@TempDir Path dir) throws Exception {
        TrafficLimits limits = TrafficLimits.none().withDailyMessages(2)
                .withThrottling(ThrottleSettings.s1().withSpec("c2d=0.2/s"));
        try (HubServer hub = start(dir, limits)) {
            HubTestSupport.register(hub, "amqp-c2d-quota");
            try (ProtonClient service = connect(hub, HubTestSupport.ownerToken(hub), hub.hostName())) {
                Sender sender = service.openSender("/messages/devicebound");
                AtomicInteger n = new AtomicInteger();
                assertInstanceOf(Accepted.class, send(service, sender, "m" + n.incrementAndGet()));
                ErrorCondition throttled = rejection(send(service, sender, "m" + n.incrementAndGet()));
                assertEquals("com.microsoft:device-container-throttled", throttled.getCondition().toString());
                assertEquals(429001, ((Number) throttled.getInfo().get(STATUS_CODE)).intValue());
                assertEquals(1, hub.dailyQuota().used(), "a throttled send costs no quota");

                Await.until("a send accepted once the rate allows",
                        () -> send(service, sender, "m" + n.incrementAndGet()) instanceof Accepted);
                assertEquals(2, hub.dailyQuota().used());
                // past the day's quota: rejected as a resource limit, whenever the rate allows the attempt
                ErrorCondition over = Await.value(Duration.ofSeconds(30), () -> {
                    ErrorCondition refused = rejection(send(service, sender, "m" + n.incrementAndGet()));
                    return AmqpErrors.RESOURCE_LIMIT.equals(refused.getCondition()) ? refused : null;
                });
                assertNotNull(over, "no send refused for the quota within 30 s");
                assertEquals(403002, ((Number) over.getInfo().get(STATUS_CODE)).intValue(), String.valueOf(over));
                assertEquals(2, hub.cloudToDevice().queuedMessages("amqp-c2d-quota"));
            }
        }
    }

    private static DeliveryState send(ProtonClient service, Sender sender, String messageId) throws Exception {
        Message m = ProtonClient.message("to the device");
        Properties properties = new Properties();
        properties.setMessageId(messageId);
        properties.setTo("/devices/amqp-c2d-quota/messages/devicebound");
        m.setProperties(properties);
        return service.send(sender, m);
    }

    private static ErrorCondition rejection(DeliveryState outcome) {
        return assertInstanceOf(Rejected.class, outcome).getError();
    }
}
