package io.ferryhub.hub.service.c2d;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.service.throttling.DailyMessageQuota;
import io.ferryhub.hub.storage.c2d.FileC2dStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;

/** IoT Hub's cloud-to-device limits and durability, on the embedded file store. */
class CloudToDeviceServiceTest {
    @TempDir
    Path dir;
    /** The registry as the service sees it: device id to generation id. */
    private final Map<String, String> registered = new ConcurrentHashMap<>(Map.of("dev1", "gen-1", "dev2", "gen-2"));

    private CloudToDeviceService service() throws Exception {
        return new CloudToDeviceService(new FileC2dStore(dir), CloudToDeviceService.Settings.DEFAULTS,
                id -> Optional.ofNullable(registered.get(id)), Clock.systemUTC());
    }

    private static OutgoingMessage message(String id, byte[] body) {
        return new OutgoingMessage(id, null, null, "full", null, Map.of("k", "v"), body);
    }

    private static HubErrorCode failure(CompletableFuture<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(HubException.class, e.getCause()).errorCode();
    }

    @Test
    void fiftyMessagesFitInAQueueAndTheFiftyFirstIsRefused() throws Exception {
        try (CloudToDeviceService c2d = service()) {
            for (int i = 0; i < 50; i++) {
                c2d.send("dev1", message("m" + i, new byte[10])).get(30, TimeUnit.SECONDS);
            }
            assertEquals(HubErrorCode.DeviceMaximumQueueDepthExceeded, failure(c2d.send("dev1", message("m50", new byte[10]))));
            // other devices are not affected
            c2d.send("dev2", message("x", new byte[10])).get(30, TimeUnit.SECONDS);
            assertEquals(50, c2d.purge("dev1").get(30, TimeUnit.SECONDS));
            c2d.send("dev1", message("m51", new byte[10])).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSendCostsDailyQuotaOnlyWhenQueuedAndIsRefusedWith403002OnceItIsUsed() throws Exception {
        DailyMessageQuota quota = new DailyMessageQuota(3, Clock.systemUTC(), null);
        try (CloudToDeviceService c2d = new CloudToDeviceService(new FileC2dStore(dir),
                CloudToDeviceService.Settings.DEFAULTS, id -> Optional.ofNullable(registered.get(id)),
                Clock.systemUTC(), quota::charge)) {
            c2d.send("dev1", message("small", new byte[10])).get(30, TimeUnit.SECONDS);
            // a message refused for what it is costs nothing
            assertEquals(HubErrorCode.DeviceNotFound, failure(c2d.send("nobody", message("a", new byte[10]))));
            assertEquals(1, quota.used());
            // metered per started 4 KB, as device-to-cloud messages are
            c2d.send("dev1", message("6kb", new byte[6 * 1024])).get(30, TimeUnit.SECONDS);
            assertEquals(3, quota.used());
            HubErrorCode refused = failure(c2d.send("dev2", message("over", new byte[10])));
            assertEquals(HubErrorCode.IotHubQuotaExceeded, refused);
            assertEquals(0, c2d.queueDepth("dev2").get(), "nothing is queued past the quota");
            assertEquals(2, c2d.queueDepth("dev1").get());
        }
    }

    @Test
    void sizeIsCountedAsIotHubDoesUpTo64Kb() throws Exception {
        try (CloudToDeviceService c2d = service()) {
            // body + message id + property name and value
            int overhead = "id".length() + "k".length() + "v".length();
            c2d.send("dev1", message("id", new byte[64 * 1024 - overhead])).get(30, TimeUnit.SECONDS);
            assertEquals(HubErrorCode.MessageTooLarge, failure(c2d.send("dev1", message("id", new byte[64 * 1024 - overhead + 1]))));
        }
    }

    @Test
    void badRequestsAreRefusedWithIotHubCodes() throws Exception {
        try (CloudToDeviceService c2d = service()) {
            assertEquals(HubErrorCode.DeviceNotFound, failure(c2d.send("nobody", message("a", new byte[1]))));
            assertEquals(HubErrorCode.ArgumentInvalid, failure(c2d.send("dev1",
                    new OutgoingMessage("a", null, null, "sometimes", null, Map.of(), new byte[1]))));
            assertEquals(HubErrorCode.ArgumentInvalid, failure(c2d.send("dev1",
                    new OutgoingMessage("a", null, null, null, Instant.now().plus(Duration.ofDays(3)), Map.of(),
                            new byte[1]))));
            assertEquals(HubErrorCode.ArgumentInvalid, failure(c2d.send("dev1",
                    new OutgoingMessage("a", null, null, null, Instant.now().minusSeconds(1), Map.of(), new byte[1]))));
            assertEquals(HubErrorCode.ArgumentInvalid, failure(c2d.send("dev1",
                    new OutgoingMessage("a", null, null, null, null, Map.of("bad name", "v"), new byte[1]))));
            assertEquals(HubErrorCode.ArgumentInvalid, failure(c2d.send("dev1", message("x".repeat(129), new byte[1]))));
            assertEquals(HubErrorCode.DeviceNotFound, failure(c2d.purge("nobody")));
            assertEquals(0, c2d.queueDepth("dev1").get());
        }
    }

    @Test
    void queuesAndDeliveryCountsSurviveARestart() throws Exception {
        byte[] body = "durable".getBytes(StandardCharsets.UTF_8);
        LinkedBlockingQueue<C2dMessage> delivered = new LinkedBlockingQueue<>();
        DeviceInbox failing = inbox(delivered, CompletableFuture.failedFuture(new IllegalStateException("dropped")));
        try (CloudToDeviceService c2d = service()) {
            c2d.send("dev1", message("keep", body)).get(30, TimeUnit.SECONDS);
            c2d.attach(failing);
            assertEquals(1, delivered.poll(30, TimeUnit.SECONDS).deliveryCount());
            c2d.detach(failing);
        }
        try (CloudToDeviceService c2d = service()) {
            assertEquals(1, c2d.queueDepth("dev1").get());
            CompletableFuture<Void> ack = new CompletableFuture<>();
            c2d.attach(inbox(delivered, ack));
            C2dMessage again = delivered.poll(30, TimeUnit.SECONDS);
            assertNotNull(again);
            assertEquals("keep", again.messageId());
            assertEquals(2, again.deliveryCount());
            assertArrayEquals(body, again.body());
            assertEquals(0, again.sequenceNumber());
            ack.complete(null);
            assertTrue(waitForEmpty(c2d, "dev1"));
            // the next message continues the sequence instead of reusing a number
            assertEquals(1, c2d.send("dev1", message("next", body)).get(30, TimeUnit.SECONDS).sequenceNumber());
        }
        try (CloudToDeviceService c2d = service()) {
            CloudToDeviceService.FeedbackBatch batch = c2d.receiveFeedback().get(30, TimeUnit.SECONDS).orElseThrow();
            assertEquals("keep", batch.records().get(0).originalMessageId());
            assertEquals("Success", batch.records().get(0).statusCode());
            assertEquals("gen-1", batch.records().get(0).deviceGenerationId());
            assertTrue(c2d.receiveFeedback().get(30, TimeUnit.SECONDS).isEmpty(), "a locked batch is not handed out twice");
            c2d.completeFeedback(batch.lockToken()).get(30, TimeUnit.SECONDS);
            assertEquals(HubErrorCode.DeviceMessageLockLost, failure(c2d.completeFeedback(batch.lockToken())));
        }
    }

    /** The content type and encoding a back end set (the Node and Java service SDKs do) are queued with the body. */
    @Test
    void contentTypeAndEncodingAreQueuedAndSurviveARestart() throws Exception {
        try (CloudToDeviceService c2d = service()) {
            c2d.send("dev1", new OutgoingMessage("typed", null, null, "none", null, Map.of(), "{}".getBytes(
                    StandardCharsets.UTF_8), "application/json", "utf-8")).get(30, TimeUnit.SECONDS);
            c2d.send("dev1", message("untyped", new byte[1])).get(30, TimeUnit.SECONDS);
        }
        try (CloudToDeviceService c2d = service()) {
            CloudToDeviceService.LockedMessage typed = c2d.receive("dev1", "gen-1").get(30, TimeUnit.SECONDS)
                    .orElseThrow();
            assertEquals("typed", typed.message().messageId());
            assertEquals("application/json", typed.message().contentType());
            assertEquals("utf-8", typed.message().contentEncoding());
            c2d.complete("dev1", typed.lockToken()).get(30, TimeUnit.SECONDS);
            C2dMessage untyped = c2d.receive("dev1", "gen-1").get(30, TimeUnit.SECONDS).orElseThrow().message();
            assertEquals("untyped", untyped.messageId());
            assertEquals(null, untyped.contentType());
            assertEquals(null, untyped.contentEncoding());
        }
    }

    @Test
    void aDeviceCreatedAgainWithTheSameIdDoesNotInheritTheOldMessages() throws Exception {
        try (CloudToDeviceService c2d = service()) {
            c2d.send("dev1", message("old", new byte[1])).get(30, TimeUnit.SECONDS);
            registered.put("dev1", "gen-new"); // deleted and registered again
            c2d.send("dev1", message("new", new byte[1])).get(30, TimeUnit.SECONDS);
            assertEquals(1, c2d.queueDepth("dev1").get());
            registered.remove("dev1"); // deleted for good: the sweep drops its queue
            assertTrue(waitForEmpty(c2d, "dev1"));
        }
        try (CloudToDeviceService c2d = service()) {
            assertEquals(0, c2d.queueDepth("dev1").get(), "the dropped queue must stay dropped after a restart");
        }
    }

    private static boolean waitForEmpty(CloudToDeviceService c2d, String deviceId) throws Exception {
        return Await.within(Duration.ofSeconds(30), () -> c2d.queueDepth(deviceId).get() == 0);
    }

    private static DeviceInbox inbox(LinkedBlockingQueue<C2dMessage> delivered, CompletableFuture<Void> outcome) {
        return new DeviceInbox() {
            @Override
            public String deviceId() {
                return "dev1";
            }

            @Override
            public String generationId() {
                return "gen-1";
            }

            @Override
            public CompletableFuture<Void> deliver(C2dMessage message) {
                delivered.add(message);
                return outcome;
            }
        };
    }
}
