package io.ferryhub.hub.adapter.http.management;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.adapter.http.RestRequest;
import io.ferryhub.hub.adapter.http.RestResponse;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.auth.SharedAccessPolicies;
import io.ferryhub.hub.service.auth.SharedAccessPolicy;
import io.netty.handler.codec.http.HttpMethod;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * {@code GET /sharedAccessPolicies}: the hub's policies with their keys. Azure lists them through its management
 * API ({@code listKeys}); this hub has no management plane, so it serves the same shape here, to callers holding
 * every permission (iothubowner) only.
 */
public final class SharedAccessPolicyRoutes {
    private SharedAccessPolicyRoutes() {
    }

    public static void register(RestRoutes routes, SharedAccessPolicies policies) {
        routes.add(HttpMethod.GET, "/sharedAccessPolicies", Permission.RegistryRead,
                request -> list(request, policies));
    }

    private static CompletableFuture<RestResponse> list(RestRequest request, SharedAccessPolicies policies) {
        if (!request.principal().permissions().containsAll(EnumSet.allOf(Permission.class))) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, "listing the shared access policies "
                    + "needs a policy with every permission, such as iothubowner");
        }
        ObjectNode out = Json.object();
        ArrayNode value = out.putArray("value");
        for (SharedAccessPolicy p : policies.all()) {
            value.addObject()
                    .put("keyName", p.keyName())
                    .put("primaryKey", p.primaryKey())
                    .put("secondaryKey", p.secondaryKey())
                    .put("rights", Arrays.stream(Permission.values()).filter(p.rights()::contains)
                            .map(Enum::name).collect(Collectors.joining(", ")));
        }
        return CompletableFuture.completedFuture(RestResponse.ok(out));
    }
}
