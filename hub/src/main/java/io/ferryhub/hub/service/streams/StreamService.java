package io.ferryhub.hub.service.streams;

import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.gateway.StreamInfo;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.signaling.DeviceDirectory;
import io.ferryhub.signaling.StreamInitiation;
import io.ferryhub.signaling.StreamNegotiator;
import io.ferryhub.signaling.StreamTokenIssuer;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Device streams as the hub runs them: signaling through whichever transport a device is connected by, and the
 * operator's view of the streams relayed by the embedded gateway.
 */
public final class StreamService {
    private final StreamNegotiator negotiator;
    private final StreamGateway gateway;

    /**
     * @param directory the registry's view of identities (exists, enabled)
     * @param gateway   the embedded gateway, whose streams the operator lists and closes
     */
    public StreamService(DeviceDirectory directory, DeviceConnections connections, StreamTokenIssuer issuer,
                         StreamGateway gateway, ScheduledExecutorService timer) {
        this.negotiator = new StreamNegotiator(directory,
                (deviceId, moduleId, wait) -> connections
                        .awaitLink(deviceId, moduleId, link -> link.streamRequests().isPresent(), wait.toMillis())
                        .thenApply(link -> link.flatMap(DeviceLink::streamRequests)),
                issuer, timer, Clock.systemUTC());
        this.gateway = gateway;
    }

    /** See {@link StreamNegotiator#initiate}; the response timeout is capped at 60 s. */
    public CompletableFuture<StreamInitiation> initiate(String deviceId, String moduleId, String streamName,
                                                        Duration connectTimeout, Duration responseTimeout,
                                                        String initiator) {
        return negotiator.initiate(new StreamNegotiator.Request(deviceId, moduleId, streamName, connectTimeout,
                responseTimeout, initiator));
    }

    /** A device's accept (true) or reject of a stream request. */
    public void onDeviceResponse(String deviceId, String moduleId, String requestId, boolean accepted) {
        negotiator.onDeviceResponse(deviceId, moduleId, requestId, accepted);
    }

    public List<StreamInfo> streams() {
        return gateway.streams();
    }

    public boolean close(String streamId, String reason) {
        return gateway.close(streamId, reason);
    }
}
