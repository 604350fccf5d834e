package io.ferryhub.hub.adapter.http.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.ipfilter.IpFilterRule;
import io.ferryhub.common.ipfilter.IpFilterRules;
import io.ferryhub.hub.adapter.http.RestRequest;
import io.ferryhub.hub.adapter.http.RestResponse;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.ipfilter.IpFilterService;
import io.netty.handler.codec.http.HttpMethod;

import java.util.EnumSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The IP filter over REST, under the hub's own {@code /ferryhub/} namespace (Azure edits it through its management
 * API, as {@code properties.ipFilterRules}; the rule shape is the same), for callers holding every permission
 * (iothubowner) only:
 * <ul>
 *   <li>{@code GET /ferryhub/ipFilter}: {@code {"ipFilterRules": [...]}} in evaluation order;</li>
 *   <li>{@code PUT /ferryhub/ipFilter}: replaces every rule at once (all or nothing);</li>
 *   <li>{@code POST /ferryhub/ipFilter/rules}: adds one rule, {@code {"filterName", "action", "ipMask"}}, at
 *       {@code "position"} (0-based) or last;</li>
 *   <li>{@code DELETE /ferryhub/ipFilter/rules/{filterName}}: removes one (404 when there is none).</li>
 * </ul>
 */
public final class IpFilterRoutes {
    public static final String PATH = "/ferryhub/ipFilter";

    private IpFilterRoutes() {
    }

    public static void register(RestRoutes routes, IpFilterService filter) {
        routes.add(HttpMethod.GET, PATH, Permission.RegistryRead, r -> owner(r, filter::rules));
        routes.add(HttpMethod.PUT, PATH, Permission.RegistryWrite, r -> owner(r, () -> filter.replace(
                invalid(() -> IpFilterRules.fromJson(r.jsonBody())))));
        routes.add(HttpMethod.POST, PATH + "/rules", Permission.RegistryWrite, r -> owner(r, () -> {
            JsonNode body = r.jsonObject();
            return filter.add(invalid(() -> IpFilterRule.fromJson(body)), position(body));
        }));
        routes.add(HttpMethod.DELETE, PATH + "/rules/{filterName}", Permission.RegistryWrite,
                r -> owner(r, () -> filter.delete(r.pathParam("filterName"))));
    }

    /** Runs {@code action} for a caller holding every permission; answers the filter as it then stands. */
    private static CompletableFuture<RestResponse> owner(RestRequest request, Supplier<IpFilterRules> action) {
        if (!request.principal().permissions().containsAll(EnumSet.allOf(Permission.class))) {
            throw new HubException(HubErrorCode.IotHubUnauthorizedAccess, "the IP filter can be read and changed "
                    + "only with a policy holding every permission, such as iothubowner");
        }
        return CompletableFuture.completedFuture(RestResponse.ok(action.get().toJson()));
    }

    private static Integer position(JsonNode body) {
        JsonNode p = body.get("position");
        if (p == null || p.isNull()) {
            return null;
        }
        if (!p.canConvertToInt() || !p.isIntegralNumber() || p.asInt() < 0) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "position must be a whole number from 0 (first)");
        }
        return p.asInt();
    }

    private static <T> T invalid(Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, e.getMessage());
        }
    }
}
