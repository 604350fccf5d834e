package io.ferryhub.hub.adapter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouteTemplateTest {
    private static final RouteTemplate MODULE = new RouteTemplate("/devices/{deviceId}/modules/{moduleId}");

    @Test
    void splitIgnoresLeadingAndTrailingSlashesButKeepsEmptyInnerSegments() {
        assertEquals(List.of("devices", "d1"), RouteTemplate.split("//devices/d1/"));
        assertEquals(List.of(), RouteTemplate.split("/"));
        assertEquals(List.of("a", "", "b"), RouteTemplate.split("/a//b"));
    }

    @Test
    void parametersAreDecodedAndLiteralsMatchIgnoringCase() {
        assertEquals(Map.of("deviceId", "my device", "moduleId", "m/1"),
                MODULE.match(RouteTemplate.split("/DEVICES/my%20device/Modules/m%2F1")));
        assertEquals(Map.of(), new RouteTemplate("/statistics/devices").match(List.of("Statistics", "DEVICES")));
    }

    @Test
    void otherLengthsOtherLiteralsAndEmptyParametersDoNotMatch() {
        assertNull(MODULE.match(RouteTemplate.split("/devices/d1/modules")));
        assertNull(MODULE.match(RouteTemplate.split("/devices/d1/modules/m1/extra")));
        assertNull(MODULE.match(RouteTemplate.split("/twins/d1/modules/m1")));
        assertNull(MODULE.match(RouteTemplate.split("/devices//modules/m1")));
    }

    @Test
    void literalsMakeATemplateMoreSpecific() {
        assertEquals(2, MODULE.literalCount());
        assertEquals(3, new RouteTemplate("/devices/{id}/messages/deviceBound").literalCount());
        assertEquals("/devices/{deviceId}/modules/{moduleId}", MODULE.toString());
        assertThrows(IllegalArgumentException.class, () -> new RouteTemplate("devices"));
    }

    @Test
    void aMalformedEscapeInAParameterIsAnIllegalArgument() {
        // the router answers IllegalArgumentException with 400 IotHubFormatError
        assertThrows(IllegalArgumentException.class, () -> MODULE.match(RouteTemplate.split("/devices/%zz/modules/m")));
    }
}
