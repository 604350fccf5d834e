package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code iothub monitor-events}: prints device-to-cloud messages as they arrive in the built-in event stream, with
 * their properties, like {@code az iot hub monitor-events}. Reads every partition through the hub's resumable
 * REST long poll, one reader thread per partition.
 */
final class MonitorEventsCommand {
    static final String USAGE = """
            iothub monitor-events [--device ID] [--consumer-group G] [--from latest|earliest|offset:N|seq:N|time:ISO]
                                  [--count N] [--timeout SECONDS]""";
    private static final Set<String> VALUED = Set.of("device", "consumer-group", "from", "count", "timeout");
    private static final int POLL_SECONDS = 10;

    private MonitorEventsCommand() {
    }

    static void run(List<String> argv, Output out) {
        Set<String> valued = new HashSet<>(HubApi.OPTIONS);
        valued.addAll(VALUED);
        Args args = Args.parse(argv, valued, Set.of("json"));
        args.expectPositionals(0);
        String device = args.option("device");
        String group = args.option("consumer-group");
        String from = args.option("from") == null ? "latest" : args.option("from");
        int count = args.intOption("count", 0);
        int timeout = args.intOption("timeout", 0);
        Instant deadline = timeout > 0 ? Instant.now().plusSeconds(timeout) : Instant.MAX;
        AtomicInteger printed = new AtomicInteger();
        try (HubApi api = HubApi.connect(args)) {
            JsonNode partitions = api.get("/messages/events/partitions");
            AtomicReference<RuntimeException> failure = new AtomicReference<>();
            // released when the count is reached, a reader fails, or every reader ended; readers in the middle
            // of a long poll are daemon threads and are not waited for
            CountDownLatch finished = new CountDownLatch(1);
            AtomicInteger running = new AtomicInteger(partitions.size());
            Stop stop = new Stop(printed, count, deadline, failure, finished);
            for (JsonNode partition : partitions) {
                String id = partition.path("partitionId").asText();
                Thread reader = new Thread(() -> {
                    try {
                        read(api, id, group, from, device, out, stop);
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                        finished.countDown();
                    } finally {
                        if (running.decrementAndGet() == 0) {
                            finished.countDown();
                        }
                    }
                }, "monitor-" + id);
                reader.setDaemon(true);
                reader.start();
            }
            if (timeout > 0) {
                finished.await(timeout, TimeUnit.SECONDS);
            } else {
                finished.await();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    /** When the readers stop: enough events printed, the time is up, or one of them failed. */
    private record Stop(AtomicInteger printed, int count, Instant deadline, AtomicReference<RuntimeException> failure,
                        CountDownLatch finished) {
        void printedOne() {
            if (printed.incrementAndGet() == count) {
                finished.countDown();
            }
        }

        boolean now() {
            return (count > 0 && printed.get() >= count) || Instant.now().isAfter(deadline) || failure.get() != null;
        }
    }

    private static void read(HubApi api, String partition, String group, String from, String device, Output out,
                             Stop stop) {
        String position = from;
        while (!stop.now()) {
            long wait = Math.min(POLL_SECONDS,
                    Math.max(1, Duration.between(Instant.now(), stop.deadline()).toSeconds()));
            String path = "/messages/events/partitions/" + partition + "?from=" + HubApi.segment(position)
                    + "&max=100&waitSeconds=" + wait + (group == null ? "" : "&consumerGroup=" + HubApi.segment(group));
            JsonNode batch = api.send("GET", path, null, Map.of()).json();
            for (Iterator<JsonNode> it = batch.path("events").elements(); it.hasNext(); ) {
                JsonNode event = it.next();
                String origin = event.path("systemProperties").path("iothub-connection-device-id").asText();
                if (device != null && !device.equals(origin)) {
                    continue;
                }
                synchronized (out) {
                    if (stop.now()) {
                        return;
                    }
                    out.json(render(event, origin));
                    stop.printedOne();
                }
            }
            position = "offset:" + batch.path("nextOffset").asText();
        }
    }

    /** The shape {@code az iot hub monitor-events --properties all} prints. */
    private static ObjectNode render(JsonNode event, String origin) {
        ObjectNode wrapper = Json.object();
        ObjectNode body = wrapper.putObject("event");
        body.put("origin", origin);
        body.put("module", event.path("systemProperties").path("iothub-connection-module-id").asText(""));
        byte[] payload = Base64.getDecoder().decode(event.path("body").asText());
        String text = utf8(payload);
        if (text == null) {
            body.put("payload", Base64.getEncoder().encodeToString(payload));
            body.put("payloadEncoding", "base64");
        } else {
            body.put("payload", text);
        }
        ObjectNode properties = body.putObject("properties");
        properties.set("system", event.path("systemProperties"));
        properties.set("application", event.path("properties"));
        return wrapper;
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException notText) {
            return null;
        }
    }
}
