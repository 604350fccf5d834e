package io.ferryhub.hub.adapter.http;

import io.ferryhub.hub.service.auth.Permission;
import io.netty.handler.codec.http.HttpMethod;

/**
 * The table of REST routes. Each feature registers its own routes at start-up; the router matches the path
 * (case-insensitively for the literal segments, as IoT Hub does), checks the caller's SAS token for
 * {@code permission} and calls the handler. Paths are templates like {@code /twins/{deviceId}/streams/{streamName}}.
 */
public interface RestRoutes {
    /**
     * @param permission the policy permission the caller needs; null for routes that authenticate themselves
     *                   (device-facing HTTPS routes)
     */
    void add(HttpMethod method, String pathTemplate, Permission permission, RestHandler handler);
}
