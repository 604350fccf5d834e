package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.query.QueryService;
import io.netty.handler.codec.http.HttpMethod;

import java.util.concurrent.CompletableFuture;

/**
 * IoT Hub's twin query: {@code POST /devices/query} with {@code {"query": "SELECT ..."}}; page size in
 * {@code x-ms-max-item-count}, the next page's token in {@code x-ms-continuation} (both ways), the kind of items in
 * {@code x-ms-item-type}. The answer is a JSON array.
 */
public final class QueryRoutes {
    static final String MAX_ITEM_COUNT = "x-ms-max-item-count";
    static final String CONTINUATION = "x-ms-continuation";
    static final String ITEM_TYPE = "x-ms-item-type";

    private final QueryService queries;

    public QueryRoutes(QueryService queries) {
        this.queries = queries;
    }

    public void register(RestRoutes routes) {
        routes.add(HttpMethod.POST, "/devices/query", Permission.ServiceConnect, this::query);
    }

    private CompletableFuture<RestResponse> query(RestRequest request) {
        JsonNode body = request.jsonObject();
        JsonNode text = body.get("query");
        if (text == null || !text.isTextual()) {
            throw new HubException(HubErrorCode.ArgumentNull, "The body needs a \"query\" string");
        }
        QueryService.Page page = queries.query(text.textValue(), pageSize(request.header(MAX_ITEM_COUNT)),
                request.header(CONTINUATION));
        var array = Json.MAPPER.createArrayNode();
        array.addAll(page.items());
        RestResponse response = RestResponse.ok(array).withHeader(ITEM_TYPE, page.itemType());
        if (page.continuation() != null) {
            response = response.withHeader(CONTINUATION, page.continuation());
        }
        return CompletableFuture.completedFuture(response);
    }

    private static Integer pageSize(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        try {
            return Integer.parseInt(header.trim());
        } catch (NumberFormatException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, MAX_ITEM_COUNT + " must be a number: " + header);
        }
    }
}
