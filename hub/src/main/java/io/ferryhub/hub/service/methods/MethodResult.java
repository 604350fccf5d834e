package io.ferryhub.hub.service.methods;

import com.fasterxml.jackson.databind.JsonNode;

/** A device's answer to a direct method: the status it chose and its JSON payload (null when it sent none). */
public record MethodResult(int status, JsonNode payload) {
}
