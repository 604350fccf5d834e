package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.RandomAccessFile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A consumer group change waits for its file to be durable; an Event Hubs receiver attaching meanwhile is checked
 * against the consumer groups on the connection's event loop and must not wait for that write. The write is held
 * for real: the file it writes first is a named pipe nobody reads, as a stalled disk would hold it.
 */
class EventHubsAttachWhileStoringTest {
    /** The hold is let go after this, so that a hub that waits shows how long it waited instead of hanging. */
    private static final long HOLD_MILLIS = 10_000;

    @TempDir
    Path dataDir;

    @Test
    void aReceiverAttachesWhileAConsumerGroupChangeWaitsForStorage() throws Exception {
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("ehhold.localhost"))) {
            Path pipe = dataDir.resolve("consumer-groups.json.next");
            assertEquals(0, new ProcessBuilder("mkfifo", pipe.toString()).inheritIO().start().waitFor());
            Thread[] writer = new Thread[1];
            CompletableFuture<Void> change = CompletableFuture.runAsync(() -> {
                writer[0] = Thread.currentThread();
                hub.eventStream().createConsumerGroup("held");
            }, task -> new Thread(task, "consumer-group-change").start());
            assertTrue(waitFor(() -> writer[0] != null && Arrays.stream(writer[0].getStackTrace())
                    .anyMatch(f -> f.getClassName().endsWith("DurableFiles"))), "the change never reached storage");

            CompletableFuture<Void> letGo = new CompletableFuture<>();
            CompletableFuture.delayedExecutor(HOLD_MILLIS, TimeUnit.MILLISECONDS).execute(() -> letGo.complete(null));
            // opening the pipe for reading and writing lets the held write through (its fsync then fails: a pipe)
            letGo.thenRun(() -> release(pipe, change));
            try (ProtonClient client = new ProtonClient(HubTestSupport.trusting(hub.caCertificatePath()),
                    hub.amqpPort(), ProtonClient.SaslMode.ANONYMOUS, null, null)) {
                assertTrue(client.awaitOpen());
                String entity = hub.eventHubName() + "/ConsumerGroups/$Default/Partitions/0";
                String audience = "amqp://" + hub.hostName() + "/" + entity;
                String key = hub.policies().find("iothubowner").orElseThrow().primaryKey();
                long start = System.nanoTime();
                assertEquals(200, client.putToken(audience, token(audience, key)));
                Receiver receiver = attach(client, entity);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertEquals(EndpointState.ACTIVE, receiver.getRemoteState());
                System.out.printf("receiver attached in %d ms while the consumer group change was held%n", millis);
                assertTrue(!letGo.isDone() && millis < HOLD_MILLIS / 2,
                        "the attach waited " + millis + " ms for a consumer group write");
            } finally {
                letGo.complete(null);
                change.handle((ok, e) -> null).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Keeps the pipe open until the change is over: the writer opens it twice (to write, then to fsync). */
    private static void release(Path pipe, CompletableFuture<Void> change) {
        try (RandomAccessFile reader = new RandomAccessFile(pipe.toFile(), "rw")) {
            change.handle((ok, e) -> null).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Receiver attach(ProtonClient client, String entity) throws Exception {
        Receiver receiver = client.session.receiver("eh-" + UUID.randomUUID());
        Source source = new Source();
        source.setAddress(entity);
        receiver.setSource(source);
        Target target = new Target();
        target.setAddress("reader-" + UUID.randomUUID());
        receiver.setTarget(target);
        receiver.setSenderSettleMode(SenderSettleMode.UNSETTLED);
        receiver.setReceiverSettleMode(ReceiverSettleMode.SECOND);
        receiver.open();
        receiver.flow(1);
        client.pumpUntil(() -> receiver.getRemoteState() != EndpointState.UNINITIALIZED);
        return receiver;
    }

    /** As azure-messaging-eventhubs signs: the URL-encoded audience, with the key's text as the HMAC key. */
    private static String token(String audience, String key) throws Exception {
        String sr = URLEncoder.encode(audience, StandardCharsets.UTF_8);
        String se = Long.toString(Instant.now().plusSeconds(1200).getEpochSecond());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String sig = Base64.getEncoder().encodeToString(mac.doFinal((sr + "\n" + se).getBytes(StandardCharsets.UTF_8)));
        return "SharedAccessSignature sr=" + sr + "&sig=" + URLEncoder.encode(sig, StandardCharsets.UTF_8)
                + "&se=" + se + "&skn=iothubowner";
    }

    private static boolean waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        return io.ferryhub.testsupport.Await.within(java.time.Duration.ofSeconds(30), condition::getAsBoolean);
    }
}
