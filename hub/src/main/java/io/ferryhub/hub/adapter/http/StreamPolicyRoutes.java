package io.ferryhub.hub.adapter.http;

import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.streams.StreamPolicies;
import io.netty.handler.codec.http.HttpMethod;

import java.util.concurrent.CompletableFuture;

/**
 * Stream policies over REST, under the hub's own {@code /ferryhub/} namespace (IoT Hub has no such API):
 * {@code GET|PUT|DELETE /ferryhub/devices/{deviceId}/streamPolicy} and
 * {@code .../devices/{deviceId}/modules/{moduleId}/streamPolicy}. Reading needs RegistryRead, changing
 * RegistryWrite: a ServiceConnect caller, whom the policy restricts, cannot loosen it.
 */
public final class StreamPolicyRoutes {
    private final StreamPolicies policies;

    public StreamPolicyRoutes(StreamPolicies policies) {
        this.policies = policies;
    }

    public void register(RestRoutes routes) {
        for (String path : new String[] {"/ferryhub/devices/{deviceId}/streamPolicy",
                "/ferryhub/devices/{deviceId}/modules/{moduleId}/streamPolicy"}) {
            routes.add(HttpMethod.GET, path, Permission.RegistryRead, r -> CompletableFuture.completedFuture(
                    RestResponse.ok(policies.get(r.pathParam("deviceId"), r.pathParam("moduleId")).toJson())));
            routes.add(HttpMethod.PUT, path, Permission.RegistryWrite, r -> policies.set(r.pathParam("deviceId"),
                    r.pathParam("moduleId"), r.jsonObject()).thenApply(p -> RestResponse.ok(
                    p.toJson())));
            routes.add(HttpMethod.DELETE, path, Permission.RegistryWrite, r -> policies.clear(r.pathParam("deviceId"),
                    r.pathParam("moduleId")).thenApply(done -> RestResponse.noContent()));
        }
    }
}
