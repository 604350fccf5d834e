package io.ferryhub.hub.adapter.http;

import java.util.concurrent.CompletableFuture;

/**
 * Handles one REST route. It runs off the event loop, so it may block briefly (e.g. on a storage commit); long
 * waits (stream negotiation, method calls) should return an incomplete future instead. Throwing (or completing
 * exceptionally with) a {@link io.ferryhub.common.error.HubException} yields IoT Hub's error response.
 */
@FunctionalInterface
public interface RestHandler {
    CompletableFuture<RestResponse> handle(RestRequest request) throws Exception;
}
