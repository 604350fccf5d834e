package io.ferryhub.hub.adapter.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.ServicePrincipal;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

/**
 * One REST call, already routed and authenticated.
 *
 * @param method     the effective method ({@code X-HTTP-Method-Override} applied: the Java service SDK sends PATCH
 *                   as POST)
 * @param pathParams the template's {@code {name}} segments, percent-decoded
 * @param query      query parameters, decoded
 * @param body       the request body (empty array when none)
 * @param principal  who is calling; null on routes that need no service permission
 * @param clientCertificates the chain the caller presented in the TLS handshake (X.509 devices), or null
 */
public record RestRequest(HttpMethod method, String path, Map<String, String> pathParams,
                          Map<String, List<String>> query, HttpHeaders headers, byte[] body,
                          ServicePrincipal principal, String remoteAddress, X509Certificate[] clientCertificates) {
    public String pathParam(String name) {
        return pathParams.get(name);
    }

    public String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String header(String name) {
        return headers.get(name);
    }

    /** The body as JSON (an object or an array), or IoT Hub's error for a missing or malformed one. */
    public JsonNode jsonBody() {
        if (body.length == 0) {
            throw new HubException(HubErrorCode.ArgumentNull, "The request has no body");
        }
        JsonNode node;
        try {
            node = Json.parse(body);
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.IotHubFormatError, "The body is not valid JSON: " + e.getMessage());
        }
        if (!node.isObject() && !node.isArray()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "The body must be a JSON object");
        }
        return node;
    }

    /** The body as a JSON object, or IoT Hub's error for anything else. */
    public JsonNode jsonObject() {
        JsonNode node = jsonBody();
        if (!node.isObject()) {
            throw new HubException(HubErrorCode.IotHubFormatError, "The body must be a JSON object");
        }
        return node;
    }
}
