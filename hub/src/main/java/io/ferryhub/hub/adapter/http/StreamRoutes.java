package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.gateway.StreamInfo;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.streams.StreamAuditLog;
import io.ferryhub.hub.service.streams.StreamService;
import io.ferryhub.signaling.StreamInitiation;
import io.netty.handler.codec.http.HttpMethod;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Device streams over REST.
 * <ul>
 *   <li>{@code POST /twins/{deviceId}/streams/{streamName}} and {@code /twins/{d}/modules/{m}/streams/{name}}:
 *       IoT Hub's stream initiation. Timeouts come in {@code iothub-streaming-connect-timeout-in-seconds} and
 *       {@code iothub-streaming-response-timeout-in-seconds} (integer or decimal seconds); the answer is 200 with
 *       {@code iothub-streaming-is-accepted: True|False} (that casing: the Node SDK compares the string) and, when
 *       accepted, {@code iothub-streaming-url} and {@code iothub-streaming-auth-token}.</li>
 *   <li>{@code GET /streams}, {@code DELETE /streams/{streamId}}: the operator lists and closes running streams.</li>
 * </ul>
 */
public final class StreamRoutes {
    static final String CONNECT_TIMEOUT = "iothub-streaming-connect-timeout-in-seconds";
    static final String RESPONSE_TIMEOUT = "iothub-streaming-response-timeout-in-seconds";
    /** When the caller names no response timeout (the C# SDK sends none unless set). */
    private static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);

    private final StreamService streams;

    public StreamRoutes(StreamService streams) {
        this.streams = streams;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.POST, "/twins/{deviceId}/streams/{streamName}", Permission.ServiceConnect,
                this::initiate);
        routes.add(HttpMethod.POST, "/twins/{deviceId}/modules/{moduleId}/streams/{streamName}",
                Permission.ServiceConnect, this::initiate);
        routes.add(HttpMethod.GET, "/streams", Permission.ServiceConnect,
                r -> CompletableFuture.completedFuture(RestResponse.ok(list())));
        routes.add(HttpMethod.DELETE, "/streams/{streamId}", Permission.ServiceConnect, r -> {
            if (!streams.close(r.pathParam("streamId"), "closed by " + r.principal().policyName())) {
                throw new HubException(HubErrorCode.StreamNotFound, "no open stream " + r.pathParam("streamId"));
            }
            return CompletableFuture.completedFuture(RestResponse.noContent());
        });
    }

    private ArrayNode list() {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (StreamInfo s : streams.streams()) {
            ObjectNode row = list.addObject()
                    .put("streamId", s.streamId())
                    .put("deviceId", s.deviceId())
                    .put("moduleId", s.moduleId())
                    .put("streamName", s.streamName())
                    .put("initiatedBy", s.initiator())
                    .put("state", s.state())
                    .put("openedUtc", s.opened().toString());
            StreamAuditLog.putByteCounts(row, s);
        }
        return list;
    }

    private CompletableFuture<RestResponse> initiate(RestRequest request) {
        Duration connect = seconds(request, CONNECT_TIMEOUT, Duration.ZERO);
        Duration response = seconds(request, RESPONSE_TIMEOUT, DEFAULT_RESPONSE_TIMEOUT);
        return streams.initiate(request.pathParam("deviceId"), request.pathParam("moduleId"),
                        request.pathParam("streamName"), connect, response, request.principal().policyName(),
                        request.principal().keyId())
                .thenApply(StreamRoutes::answer);
    }

    private static RestResponse answer(StreamInitiation outcome) {
        RestResponse response = RestResponse.empty(200)
                .withHeader("iothub-streaming-is-accepted", outcome.accepted() ? "True" : "False");
        if (outcome.accepted()) {
            response = response.withHeader("iothub-streaming-url", outcome.url())
                    .withHeader("iothub-streaming-auth-token", outcome.authToken());
        }
        return response;
    }

    private static Duration seconds(RestRequest request, String header, Duration absent) {
        String value = request.header(header);
        if (value == null || value.isBlank()) {
            return absent;
        }
        try {
            BigDecimal seconds = new BigDecimal(value.trim());
            if (seconds.signum() < 0) {
                throw new HubException(HubErrorCode.ArgumentInvalid, header + " must not be negative: " + value);
            }
            // Anything beyond a day is as good as "wait the maximum"; the negotiator caps the response wait.
            long millis = seconds.min(BigDecimal.valueOf(86_400)).movePointRight(3).longValue();
            return Duration.ofMillis(millis);
        } catch (NumberFormatException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, header + " is not a number of seconds: " + value);
        }
    }
}
