package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.telemetry.EventStreamService;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.netty.handler.codec.http.HttpMethod;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A REST way to read the built-in event stream (ServiceConnect), streaming by long poll and resumable by offset.
 * IoT Hub's own wire path for this is AMQP (the Event Hubs-compatible endpoint); this route is ours, used by
 * {@code iothub monitor-events}.
 *
 * <ul>
 *   <li>{@code GET /messages/events/partitions}: runtime information of every partition</li>
 *   <li>{@code GET /messages/events/partitions/{p}?from=…&max=…&waitSeconds=…&consumerGroup=…}: events, where
 *       {@code from} is {@code earliest}, {@code latest}, {@code offset:N} (inclusive), {@code seq:N} (inclusive)
 *       or {@code time:2026-01-01T00:00:00Z}; the answer's {@code nextOffset} continues the stream</li>
 *   <li>{@code GET /messages/events/consumergroups}, {@code PUT|DELETE /messages/events/consumergroups/{name}}</li>
 * </ul>
 */
public final class EventStreamRoutes {
    private final EventStreamService events;

    public EventStreamRoutes(EventStreamService events) {
        this.events = events;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.GET, "/messages/events/partitions", Permission.ServiceConnect, this::partitions);
        routes.add(HttpMethod.GET, "/messages/events/partitions/{partition}", Permission.ServiceConnect, this::read);
        routes.add(HttpMethod.GET, "/messages/events/consumergroups", Permission.ServiceConnect,
                r -> CompletableFuture.completedFuture(RestResponse.ok(events.consumerGroups())));
        routes.add(HttpMethod.PUT, "/messages/events/consumergroups/{name}", Permission.ServiceConnect, r -> {
            events.createConsumerGroup(r.pathParam("name"));
            return CompletableFuture.completedFuture(RestResponse.ok(Map.of("name", r.pathParam("name"))));
        });
        routes.add(HttpMethod.DELETE, "/messages/events/consumergroups/{name}", Permission.ServiceConnect, r -> {
            events.deleteConsumerGroup(r.pathParam("name"));
            return CompletableFuture.completedFuture(RestResponse.noContent());
        });
    }

    private CompletableFuture<RestResponse> partitions(RestRequest request) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (int p = 0; p < events.partitionCount(); p++) {
            PartitionInfo info = events.partitionInfo(p);
            ObjectNode node = list.addObject();
            node.put("partitionId", Integer.toString(p));
            node.put("beginningSequenceNumber", info.beginSequenceNumber());
            node.put("lastEnqueuedSequenceNumber", info.lastSequenceNumber());
            node.put("lastEnqueuedOffset", Long.toString(info.lastOffset()));
            node.put("lastEnqueuedTimeUtc", info.lastEnqueuedTimeMillis() == 0 ? null
                    : Instant.ofEpochMilli(info.lastEnqueuedTimeMillis()).toString());
            node.put("isEmpty", info.isEmpty());
            node.put("retainedBytes", info.retainedBytes());
        }
        return CompletableFuture.completedFuture(RestResponse.ok(list));
    }

    private CompletableFuture<RestResponse> read(RestRequest request) {
        int partition = intParam(request.pathParam("partition"), "partition");
        String max = request.queryParam("max");
        String wait = request.queryParam("waitSeconds");
        StartPosition from = parseFrom(request.queryParam("from"));
        return events.read(request.queryParam("consumerGroup"), partition, from,
                        max == null ? 100 : intParam(max, "max"),
                        Duration.ofSeconds(wait == null ? 0 : intParam(wait, "waitSeconds")))
                .thenApply(result -> {
                    ObjectNode body = Json.object();
                    body.put("partitionId", Integer.toString(partition));
                    body.put("nextOffset", Long.toString(result.nextOffset()));
                    ArrayNode list = body.putArray("events");
                    for (StoredEvent e : result.events()) {
                        list.add(render(e));
                    }
                    return RestResponse.ok(body);
                });
    }

    /** One event in the shape Event Hubs readers know: annotations, system and application properties, body. */
    private static ObjectNode render(StoredEvent e) {
        ObjectNode node = Json.object();
        String enqueued = Instant.ofEpochMilli(e.enqueuedTimeMillis()).toString();
        node.put("sequenceNumber", e.sequenceNumber());
        node.put("offset", Long.toString(e.offset()));
        node.put("enqueuedTimeUtc", enqueued);
        ObjectNode system = node.putObject("systemProperties");
        e.data().systemProperties().forEach(system::put);
        system.put("iothub-enqueuedtime", enqueued);
        system.put("x-opt-sequence-number", e.sequenceNumber());
        system.put("x-opt-offset", Long.toString(e.offset()));
        system.put("x-opt-enqueued-time", enqueued);
        ObjectNode properties = node.putObject("properties");
        e.data().applicationProperties().forEach(properties::put);
        node.put("body", Base64.getEncoder().encodeToString(e.data().body()));
        return node;
    }

    static StartPosition parseFrom(String from) {
        if (from == null || from.equalsIgnoreCase("latest")) {
            return StartPosition.latest();
        }
        if (from.equalsIgnoreCase("earliest")) {
            return StartPosition.earliest();
        }
        int colon = from.indexOf(':');
        String kind = colon < 0 ? "" : from.substring(0, colon);
        String value = colon < 0 ? "" : from.substring(colon + 1);
        try {
            switch (kind) {
                case "offset":
                    return new StartPosition.Offset(Long.parseLong(value), true);
                case "seq":
                    return new StartPosition.SequenceNumber(Long.parseLong(value), true);
                case "time":
                    return new StartPosition.EnqueuedTime(Instant.parse(value));
                default:
                    break;
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            // reported below
        }
        throw new HubException(HubErrorCode.ArgumentInvalid, "invalid 'from' value '" + from
                + "': use earliest, latest, offset:N, seq:N or time:2026-01-01T00:00:00Z");
    }

    private static int intParam(String value, String name) {
        try {
            int n = Integer.parseInt(value);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "'" + name + "' must be a non-negative integer");
        }
    }
}
