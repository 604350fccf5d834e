package io.ferryhub.hub.adapter;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.c2d.FeedbackRecord;

import java.time.Instant;

/**
 * IoT Hub's cloud-to-device feedback batch: a JSON array of records, the same body whether a back-end takes it over
 * AMQP ({@code /messages/serviceBound/feedback}) or HTTPS.
 */
public final class FeedbackBatchJson {
    private FeedbackBatchJson() {
    }

    public static ArrayNode of(Iterable<FeedbackRecord> records) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (FeedbackRecord r : records) {
            ObjectNode node = list.addObject();
            node.put("originalMessageId", r.originalMessageId());
            node.put("deviceId", r.deviceId());
            node.put("deviceGenerationId", r.deviceGenerationId());
            node.put("statusCode", r.statusCode());
            node.put("description", r.description());
            node.put("enqueuedTimeUtc", Instant.ofEpochMilli(r.enqueuedMillis()).toString());
        }
        return list;
    }
}
