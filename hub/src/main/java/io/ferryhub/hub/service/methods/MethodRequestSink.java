package io.ferryhub.hub.service.methods;

import java.util.concurrent.CompletableFuture;

/** Where a transport takes direct method requests for one connected device or module. */
public interface MethodRequestSink {
    /** Whether the device currently listens for method requests (e.g. holds its MQTT subscription). */
    boolean ready();

    /** Sends the request; the future fails when it could not be sent. */
    CompletableFuture<Void> deliver(MethodRequest request);
}
