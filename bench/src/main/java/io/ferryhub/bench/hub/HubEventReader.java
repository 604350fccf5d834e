package io.ferryhub.bench.hub;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.http.HttpResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * The hub's event stream read path as a back-end uses it: one long-poll loop per partition on
 * {@code GET /messages/events/partitions/{p}}, starting at the end of the stream and continuing from each answer's
 * {@code nextOffset}. Each event body is handed over with the time its answer arrived.
 */
public final class HubEventReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HubEventReader.class);
    private static final int MAX_EVENTS_PER_POLL = 1000;
    private static final int WAIT_SECONDS = 1;

    /** Receives each event body read. */
    public interface EventSink {
        void onEvent(byte[] body, long readNanos);
    }

    private final HubRestClient client;
    private final EventSink sink;
    private volatile boolean closed;

    private HubEventReader(HubRestClient client, EventSink sink) {
        this.client = client;
        this.sink = sink;
    }

    public static HubEventReader start(HubRestClient client, int partitions, EventSink sink) {
        HubEventReader reader = new HubEventReader(client, sink);
        for (int p = 0; p < partitions; p++) {
            reader.poll(p, "latest");
        }
        return reader;
    }

    /** The number of partitions, from {@code GET /messages/events/partitions}. */
    public static int partitionCount(HubRestClient client) throws Exception {
        HttpResult result = client.send("GET", "/messages/events/partitions?" + HubRestClient.API_VERSION, null,
                Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
        if (!result.isSuccess()) {
            throw new IllegalStateException("GET /messages/events/partitions: " + result.errorReason());
        }
        return result.json().size();
    }

    private void poll(int partition, String from) {
        if (closed) {
            return;
        }
        String path = "/messages/events/partitions/" + partition + "?from=" + from + "&max=" + MAX_EVENTS_PER_POLL
                + "&waitSeconds=" + WAIT_SECONDS + "&" + HubRestClient.API_VERSION;
        client.send("GET", path, null, Duration.ofSeconds(WAIT_SECONDS + 30)).whenComplete((result, error) -> {
            long readNanos = System.nanoTime();
            if (closed) {
                return;
            }
            if (error != null || !result.isSuccess()) {
                log.warn("reading partition {} failed ({}); retrying", partition,
                        error != null ? error.getMessage() : result.errorReason());
                sleepQuietly();
                poll(partition, from);
                return;
            }
            JsonNode body = result.json();
            for (JsonNode event : body.path("events")) {
                sink.onEvent(Base64.getDecoder().decode(event.path("body").asText()), readNanos);
            }
            poll(partition, "offset:" + body.path("nextOffset").asText());
        });
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
