package io.ferryhub.hub.adapter.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RequestTargetTest {
    @Test
    void originFormIsKept() {
        assertEquals("/devices/d1?api-version=1", RequestTarget.pathAndQuery("/devices/d1?api-version=1"));
        assertEquals("/devices/d1", RequestTarget.path("/devices/d1?api-version=1"));
        assertEquals("/a/http://x", RequestTarget.path("/a/http://x"));
    }

    @Test
    void absoluteFormIsCutToPathAndQuery() {
        assertEquals("/$iothub/websocket?iothub-no-client-cert=true",
                RequestTarget.pathAndQuery("https://hub.example:443/$iothub/websocket?iothub-no-client-cert=true"));
        assertEquals("/$iothub/websocket", RequestTarget.path("wss://hub/$iothub/websocket"));
    }

    @Test
    void anAbsoluteTargetWithoutAPathHasTheRootPath() {
        assertEquals("/", RequestTarget.pathAndQuery("https://hub.example"));
        assertEquals("/?a=1", RequestTarget.pathAndQuery("https://hub.example?a=1"));
        assertEquals("/", RequestTarget.path("https://hub.example?a=/b"));
    }
}
