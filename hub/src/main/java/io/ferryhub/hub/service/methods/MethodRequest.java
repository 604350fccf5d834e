package io.ferryhub.hub.service.methods;

import com.fasterxml.jackson.databind.JsonNode;

/** A direct method call on its way to a device: the transport turns it into its wire form. */
public record MethodRequest(String requestId, String methodName, JsonNode payload) {
}
