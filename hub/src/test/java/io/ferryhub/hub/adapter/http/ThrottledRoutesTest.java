package io.ferryhub.hub.adapter.http;

import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ThrottledRoutesTest {
    @Test
    void eachServiceRouteCountsAgainstIotHubsThrottleForIt() {
        assertEquals(OperationClass.REGISTRY, ThrottledRoutes.classOf(HttpMethod.PUT, "/devices/{deviceId}",
                Permission.RegistryWrite));
        assertEquals(OperationClass.REGISTRY, ThrottledRoutes.classOf(HttpMethod.GET, "/devices",
                Permission.RegistryRead));
        assertEquals(OperationClass.QUERY, ThrottledRoutes.classOf(HttpMethod.POST, "/devices/query",
                Permission.ServiceConnect));
        assertEquals(OperationClass.TWIN_READ, ThrottledRoutes.classOf(HttpMethod.GET,
                "/twins/{deviceId}/modules/{moduleId}", Permission.ServiceConnect));
        assertEquals(OperationClass.TWIN_UPDATE, ThrottledRoutes.classOf(HttpMethod.PATCH, "/twins/{deviceId}",
                Permission.ServiceConnect));
        assertEquals(OperationClass.TWIN_UPDATE, ThrottledRoutes.classOf(HttpMethod.PUT, "/twins/{deviceId}",
                Permission.ServiceConnect));
        assertEquals(OperationClass.METHODS, ThrottledRoutes.classOf(HttpMethod.POST, "/twins/{deviceId}/methods",
                Permission.ServiceConnect));
        assertEquals(OperationClass.STREAMS, ThrottledRoutes.classOf(HttpMethod.POST,
                "/twins/{deviceId}/streams/{streamName}", Permission.ServiceConnect));
    }

    @Test
    void deviceRoutesAndUnthrottledOnesAreLeftAlone() {
        // device telemetry is throttled by the telemetry service, on every transport
        assertNull(ThrottledRoutes.classOf(HttpMethod.POST, "/devices/{deviceId}/messages/events", null));
        // cloud-to-device sends are throttled by the C2D service, for REST and AMQP senders alike
        assertNull(ThrottledRoutes.classOf(HttpMethod.POST, "/devices/{deviceId}/messages/deviceBound",
                Permission.ServiceConnect));
        assertNull(ThrottledRoutes.classOf(HttpMethod.GET, "/messages/events/partitions/{partition}",
                Permission.ServiceConnect));
        assertNull(ThrottledRoutes.classOf(HttpMethod.GET, "/streams", Permission.ServiceConnect));
        assertNull(ThrottledRoutes.classOf(HttpMethod.DELETE, "/devices/{deviceId}/commands",
                Permission.ServiceConnect));
    }
}
