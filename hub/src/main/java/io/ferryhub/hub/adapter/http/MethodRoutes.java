package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.methods.MethodCall;
import io.ferryhub.hub.service.methods.MethodResult;
import io.netty.handler.codec.http.HttpMethod;

import java.util.concurrent.CompletableFuture;

/**
 * IoT Hub's direct method API: {@code POST /twins/{deviceId}/methods} and
 * {@code /twins/{deviceId}/modules/{moduleId}/methods} with {@code methodName}, {@code payload},
 * {@code responseTimeoutInSeconds} and {@code connectTimeoutInSeconds}; 200 with {@code {status, payload}}.
 */
public final class MethodRoutes {
    private final DirectMethodService methods;

    public MethodRoutes(DirectMethodService methods) {
        this.methods = methods;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.POST, "/twins/{deviceId}/methods", Permission.ServiceConnect, this::invoke);
        routes.add(HttpMethod.POST, "/twins/{deviceId}/modules/{moduleId}/methods", Permission.ServiceConnect,
                this::invoke);
    }

    private CompletableFuture<RestResponse> invoke(RestRequest request) {
        JsonNode body = request.jsonObject();
        MethodCall call = new MethodCall(text(body, "methodName"), body.get("payload"),
                seconds(body, "responseTimeoutInSeconds"), seconds(body, "connectTimeoutInSeconds"));
        return methods.invoke(request.pathParam("deviceId"), request.pathParam("moduleId"), call)
                .thenApply(MethodRoutes::answer);
    }

    private static RestResponse answer(MethodResult result) {
        ObjectNode out = Json.object().put("status", result.status());
        out.set("payload", result.payload() == null ? Json.MAPPER.nullNode() : result.payload());
        return RestResponse.ok(out);
    }

    private static String text(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field + " must be a string");
        }
        return value.textValue();
    }

    private static Integer seconds(JsonNode body, String field) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, field + " must be a whole number of seconds");
        }
        return value.intValue();
    }
}
