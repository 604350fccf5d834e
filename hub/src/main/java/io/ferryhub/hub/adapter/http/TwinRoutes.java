package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.twin.TwinService;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;

import java.util.concurrent.CompletableFuture;

/**
 * IoT Hub's twin REST API: {@code GET}, {@code PATCH} (merge tags and desired properties) and {@code PUT} (replace
 * them) on {@code /twins/{deviceId}} and {@code /twins/{deviceId}/modules/{moduleId}}, with {@code If-Match}. The
 * answer carries the twin and its etag in {@code ETag}.
 */
public final class TwinRoutes {
    private final TwinService twins;

    public TwinRoutes(TwinService twins) {
        this.twins = twins;
    }

    public void register(RestRoutes routes) {
        for (String path : new String[]{"/twins/{deviceId}", "/twins/{deviceId}/modules/{moduleId}"}) {
            routes.add(HttpMethod.GET, path, Permission.ServiceConnect, r -> answer(
                    twins.twin(r.pathParam("deviceId"), r.pathParam("moduleId"))));
            routes.add(HttpMethod.PATCH, path, Permission.ServiceConnect, r -> answer(twins.update(
                    r.pathParam("deviceId"), r.pathParam("moduleId"), r.jsonObject(), ifMatch(r))));
            routes.add(HttpMethod.PUT, path, Permission.ServiceConnect, r -> answer(twins.replace(
                    r.pathParam("deviceId"), r.pathParam("moduleId"), r.jsonObject(), ifMatch(r))));
        }
    }

    private static CompletableFuture<RestResponse> answer(ObjectNode twin) {
        return CompletableFuture.completedFuture(RestResponse.ok(twin)
                .withHeader(HttpHeaderNames.ETAG.toString(), "\"" + twin.get("etag").asText() + "\""));
    }

    static String ifMatch(RestRequest request) {
        String value = request.header(HttpHeaderNames.IF_MATCH.toString());
        return value == null || value.isBlank() ? null : value;
    }
}
