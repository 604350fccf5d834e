package io.ferryhub.hub.adapter.http;

import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.netty.handler.codec.http.HttpMethod;

/**
 * Which of IoT Hub's throttles a service REST route counts against, decided once when the route is registered.
 * Device routes (telemetry over HTTPS), device twin requests and cloud-to-device sends are throttled by the
 * service they reach, whatever the transport.
 */
final class ThrottledRoutes {
    private ThrottledRoutes() {
    }

    /** The route's throttle, or null for a route IoT Hub does not throttle (or that is throttled elsewhere). */
    static OperationClass classOf(HttpMethod method, String template, Permission permission) {
        if (permission == null) {
            return null;
        }
        if (permission == Permission.RegistryRead || permission == Permission.RegistryWrite) {
            return OperationClass.REGISTRY;
        }
        if (method.equals(HttpMethod.POST) && template.equals("/devices/query")) {
            return OperationClass.QUERY;
        }
        if (template.startsWith("/twins/")) {
            if (method.equals(HttpMethod.POST) && template.endsWith("/methods")) {
                return OperationClass.METHODS;
            }
            if (method.equals(HttpMethod.POST) && template.contains("/streams/")) {
                return OperationClass.STREAMS;
            }
            if (method.equals(HttpMethod.GET) && !template.contains("/streams")) {
                return OperationClass.TWIN_READ;
            }
            if (method.equals(HttpMethod.PATCH) || method.equals(HttpMethod.PUT)) {
                return OperationClass.TWIN_UPDATE;
            }
        }
        return null;
    }
}
