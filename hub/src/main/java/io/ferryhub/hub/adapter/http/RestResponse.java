package io.ferryhub.hub.adapter.http;

import io.ferryhub.common.json.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a REST handler answers. JSON bodies always go out as {@code application/json; charset=utf-8}: the Node
 * service SDK parses a body only when the content type says JSON. Errors are not built here: handlers throw
 * {@link io.ferryhub.common.error.HubException} and the adapter writes IoT Hub's error body and header.
 */
public record RestResponse(int status, Map<String, String> headers, byte[] body, String contentType) {
    public static final String JSON = "application/json; charset=utf-8";

    public static RestResponse json(int status, Object value) {
        return new RestResponse(status, new LinkedHashMap<>(), Json.toBytes(value), JSON);
    }

    public static RestResponse ok(Object value) {
        return json(200, value);
    }

    public static RestResponse noContent() {
        return new RestResponse(204, new LinkedHashMap<>(), new byte[0], null);
    }

    public static RestResponse empty(int status) {
        return new RestResponse(status, new LinkedHashMap<>(), new byte[0], null);
    }

    public RestResponse withHeader(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        copy.put(name, value);
        return new RestResponse(status, copy, body, contentType);
    }
}
