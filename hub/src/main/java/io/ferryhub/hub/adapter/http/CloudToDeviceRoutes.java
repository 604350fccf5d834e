package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.adapter.FeedbackBatchJson;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.netty.handler.codec.http.HttpMethod;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The service side of cloud-to-device messaging over REST (ServiceConnect).
 *
 * <ul>
 *   <li>{@code POST /devices/{id}/messages/deviceBound}: sends the request body as a message. This route is ours:
 *       IoT Hub's own wire path for sending is AMQP (the AMQP issue). Headers: {@code iothub-messageid},
 *       {@code iothub-correlationid}, {@code iothub-userid}, {@code iothub-ack} (none, positive, negative, full),
 *       {@code iothub-expiry} (ISO-8601 instant) and {@code iothub-app-{name}} application properties, as IoT
 *       Hub's HTTPS device API names them.</li>
 *   <li>{@code DELETE /devices/{id}/commands}: IoT Hub's purge; answers {@code totalMessagesPurged}.</li>
 *   <li>{@code GET /messages/serviceBound/feedback}: a batch of feedback records (204 when none) under a lock
 *       token returned in {@code ETag}; {@code DELETE /messages/serviceBound/feedback/{lockToken}} completes it,
 *       {@code POST .../{lockToken}/abandon} gives it back. These are IoT Hub's HTTPS feedback paths.</li>
 * </ul>
 */
public final class CloudToDeviceRoutes {
    private static final String APP_PROPERTY_PREFIX = "iothub-app-";

    private final CloudToDeviceService c2d;

    public CloudToDeviceRoutes(CloudToDeviceService c2d) {
        this.c2d = c2d;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.POST, "/devices/{deviceId}/messages/deviceBound", Permission.ServiceConnect, this::send);
        routes.add(HttpMethod.DELETE, "/devices/{deviceId}/commands", Permission.ServiceConnect, r -> {
            String deviceId = r.pathParam("deviceId");
            return c2d.purge(deviceId).thenApply(count -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("deviceId", deviceId);
                body.put("totalMessagesPurged", count);
                return RestResponse.ok(body);
            });
        });
        routes.add(HttpMethod.GET, "/messages/serviceBound/feedback", Permission.ServiceConnect,
                r -> c2d.receiveFeedback().thenApply(batch -> batch
                        .map(b -> RestResponse.ok(FeedbackBatchJson.of(b.records()))
                                .withHeader("ETag", "\"" + b.lockToken() + "\""))
                        .orElseGet(RestResponse::noContent)));
        routes.add(HttpMethod.DELETE, "/messages/serviceBound/feedback/{lockToken}", Permission.ServiceConnect,
                r -> c2d.completeFeedback(unquote(r.pathParam("lockToken"))).thenApply(v -> RestResponse.noContent()));
        routes.add(HttpMethod.POST, "/messages/serviceBound/feedback/{lockToken}/abandon", Permission.ServiceConnect,
                r -> c2d.abandonFeedback(unquote(r.pathParam("lockToken"))).thenApply(v -> RestResponse.noContent()));
    }

    private CompletableFuture<RestResponse> send(RestRequest request) {
        Map<String, String> properties = new LinkedHashMap<>();
        for (Map.Entry<String, String> header : request.headers()) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith(APP_PROPERTY_PREFIX) && name.length() > APP_PROPERTY_PREFIX.length()) {
                // header names are case-insensitive on the wire; keep the sender's spelling
                properties.put(header.getKey().substring(APP_PROPERTY_PREFIX.length()), header.getValue());
            }
        }
        OutgoingMessage message = new OutgoingMessage(request.header("iothub-messageid"),
                request.header("iothub-correlationid"), request.header("iothub-userid"), request.header("iothub-ack"),
                expiry(request.header("iothub-expiry")), properties, request.body());
        return c2d.send(request.pathParam("deviceId"), message).thenApply(sent -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("messageId", sent.messageId());
            body.put("sequenceNumber", sent.sequenceNumber());
            body.put("expiryTimeUtc", sent.expiry().toString());
            return RestResponse.ok(body);
        });
    }

    private static Instant expiry(String header) {
        if (header == null || header.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(header);
        } catch (DateTimeParseException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "iothub-expiry must be an ISO-8601 instant such as 2026-01-01T00:00:00Z");
        }
    }

    private static String unquote(String token) {
        return token.length() >= 2 && token.startsWith("\"") && token.endsWith("\"")
                ? token.substring(1, token.length() - 1) : token;
    }
}
