package io.ferryhub.hub.adapter.http.management;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.ferryhub.hub.service.auth.SharedAccessPolicyRules;
import io.netty.handler.codec.http.HttpMethod;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The hub's shared access policies, with their keys: list, get one, create or replace, delete, regenerate a key or
 * swap the two. Azure manages them through its management API; this hub has no management plane, so it serves the
 * same shapes here, to callers holding every permission (such as iothubowner) only. See docs/policies.md.
 */
public final class SharedAccessPolicyRoutes {
    private static final String ONE = "/sharedAccessPolicies/{keyName}";

    private SharedAccessPolicyRoutes() {
    }

    public static void register(RestRoutes routes, SharedAccessPolicies policies) {
        routes.add(HttpMethod.GET, "/sharedAccessPolicies", Permission.RegistryRead, request -> {
            requireOwner(request, "listing the shared access policies");
            ObjectNode out = Json.object();
            ArrayNode value = out.putArray("value");
            policies.all().forEach(p -> value.add(toJson(p)));
            return done(RestResponse.ok(out));
        });
        routes.add(HttpMethod.GET, ONE, Permission.RegistryRead, request -> {
            requireOwner(request, "reading a shared access policy");
            return done(RestResponse.ok(toJson(policies.get(request.pathParam("keyName")))));
        });
        routes.add(HttpMethod.PUT, ONE, Permission.RegistryWrite, request -> {
            requireOwner(request, "changing the shared access policies");
            SharedAccessPolicies.Put put = policies.put(request.pathParam("keyName"), rightsOf(request));
            return done(RestResponse.json(put.created() ? 201 : 200, toJson(put.policy())));
        });
        routes.add(HttpMethod.DELETE, ONE, Permission.RegistryWrite, request -> {
            requireOwner(request, "changing the shared access policies");
            policies.delete(request.pathParam("keyName"));
            return done(RestResponse.noContent());
        });
        routes.add(HttpMethod.POST, ONE + "/regenerateKey", Permission.RegistryWrite, request -> {
            requireOwner(request, "changing the shared access policies");
            return done(RestResponse.ok(toJson(policies.changeKeys(request.pathParam("keyName"),
                    keyChangeOf(request)))));
        });
    }

    private static CompletableFuture<RestResponse> done(RestResponse response) {
        return CompletableFuture.completedFuture(response);
    }

    private static void requireOwner(RestRequest request, String what) {
        if (!request.principal().permissions().containsAll(EnumSet.allOf(Permission.class))) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, what
                    + " needs a policy with every permission, such as iothubowner");
        }
    }

    /** {@code {"rights": "RegistryRead, ServiceConnect"}} as IoT Hub writes them, or a JSON array of names. */
    private static Set<Permission> rightsOf(RestRequest request) {
        JsonNode rights = request.jsonObject().get("rights");
        if (rights != null && rights.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode r : rights) {
                if (!r.isTextual()) {
                    throw new HubException(HubErrorCode.ArgumentInvalid, "'rights' must list names of rights, got "
                            + r);
                }
                names.add(r.asText());
            }
            return SharedAccessPolicyRules.parseRights(String.join(",", names));
        }
        if (rights != null && !rights.isTextual()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "'rights' must be a string such as "
                    + "\"RegistryRead, ServiceConnect\" or an array of such names");
        }
        return SharedAccessPolicyRules.parseRights(rights == null ? null : rights.asText());
    }

    /** {@code {"key": "primary" | "secondary" | "swap"}}. */
    private static SharedAccessPolicies.KeyChange keyChangeOf(RestRequest request) {
        JsonNode key = request.jsonObject().get("key");
        String text = key == null || !key.isTextual() ? "" : key.asText().toLowerCase(Locale.ROOT);
        return switch (text) {
            case "primary" -> SharedAccessPolicies.KeyChange.PRIMARY;
            case "secondary" -> SharedAccessPolicies.KeyChange.SECONDARY;
            case "swap" -> SharedAccessPolicies.KeyChange.SWAP;
            default -> throw new HubException(HubErrorCode.ArgumentInvalid, "'key' must be \"primary\", "
                    + "\"secondary\" (the key to regenerate) or \"swap\" (exchange the two), got " + key);
        };
    }

    private static ObjectNode toJson(SharedAccessPolicy p) {
        return Json.object()
                .put("keyName", p.keyName())
                .put("primaryKey", p.primaryKey())
                .put("secondaryKey", p.secondaryKey())
                .put("rights", SharedAccessPolicyRules.format(p.rights()));
    }
}
