package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub runs as a child process and is killed with SIGKILL while clients register devices; afterwards every
 * registration the hub acknowledged (200) must be there, with the keys it answered.
 */
class KillDurabilityTest {
    private static final int WRITERS = 16;
    private static final int ACKS_BEFORE_KILL = 300;

    @TempDir
    Path dataDir;

    @Test
    void everyAcknowledgedRegistrationSurvivesKillMinus9() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ChildHub.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger attempted = new AtomicInteger();
        List<Thread> writers = new ArrayList<>();
        AtomicBoolean killed = new AtomicBoolean();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8));
            String[] ready = out.readLine().split(" ");
            assertEquals("READY", ready[0]);
            int port = Integer.parseInt(ready[1]);
            String ownerKey = io.ferryhub.common.sas.ConnectionString.parse(Files.readString(
                    dataDir.resolve(HubServer.OWNER_CONNECTION_STRING_FILE)).trim()).sharedAccessKey().orElseThrow();
            String token = SasToken.create("127.0.0.1", ownerKey, "iothubowner", Instant.now().plusSeconds(3600));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(HubTestSupport.trusting(dataDir.resolve("ca.pem"))).build();
            CountDownLatch enough = new CountDownLatch(1);
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                Thread t = new Thread(() -> {
                    for (int i = 0; !killed.get(); i++) {
                        String id = "kill-" + writer + "-" + i;
                        attempted.incrementAndGet();
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(
                                            "https://localhost:" + port + "/devices/" + id + "?api-version=2021-04-12"))
                                    .header("Authorization", token).timeout(Duration.ofSeconds(20))
                                    .PUT(HttpRequest.BodyPublishers.ofString("{}")).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) {
                                JsonNode d = Json.parse(r.body());
                                acknowledged.put(id, d.at("/authentication/symmetricKey/primaryKey").asText());
                                if (acknowledged.size() >= ACKS_BEFORE_KILL) {
                                    enough.countDown();
                                }
                            }
                        } catch (Exception connectionCut) {
                            return; // the hub is gone
                        }
                    }
                }, "writer-" + w);
                t.start();
                writers.add(t);
            }
            assertTrue(enough.await(60, TimeUnit.SECONDS), "the hub acknowledged " + acknowledged.size());
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush, writes in flight
            killed.set(true);
            child.waitFor(30, TimeUnit.SECONDS);
            for (Thread t : writers) {
                t.join(30_000);
            }
        }
        Map<String, String> expected = Map.copyOf(acknowledged);
        assertTrue(attempted.get() > expected.size(), "writes were in flight when the hub was killed");
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dataDir))) {
            for (Map.Entry<String, String> e : expected.entrySet()) {
                assertEquals(e.getValue(), hub.registry().device(e.getKey()).authentication().symmetricKey()
                        .primaryKey(), e.getKey());
            }
            long total = hub.registry().statistics().totalDeviceCount();
            assertTrue(total >= expected.size() && total <= attempted.get(), total + " devices");
        }
    }
}
