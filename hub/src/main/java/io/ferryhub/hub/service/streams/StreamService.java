package io.ferryhub.hub.service.streams;

import io.ferryhub.gateway.StreamGateway;
import io.ferryhub.gateway.StreamInfo;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.signaling.DeviceDirectory;
import io.ferryhub.signaling.StreamDeniedException;
import io.ferryhub.signaling.StreamInitiation;
import io.ferryhub.signaling.StreamPolicy;
import io.ferryhub.signaling.StreamNegotiator;
import io.ferryhub.signaling.StreamTokenIssuer;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Device streams as the hub runs them: signaling through whichever transport a device is connected by, and the
 * operator's view of the streams relayed by the embedded gateway.
 */
public final class StreamService {
    private final StreamNegotiator negotiator;
    private final StreamGateway gateway;
    private final String hubName;
    private final Clock clock;
    private final List<DenialListener> denialListeners = new CopyOnWriteArrayList<>();

    /** Told of every stream request a stream policy refused (audit trail, metrics). */
    public interface DenialListener {
        void denied(String deviceId, String moduleId, String streamName, String initiator,
                    StreamPolicy.Denial denial, Instant at);
    }

    /**
     * @param directory the registry's view of identities (exists, enabled) and their stream policies
     * @param gateway   the embedded gateway, whose streams the operator lists and closes
     * @param clock     stream policy hours and token expiry are judged on it
     */
    public StreamService(DeviceDirectory directory, DeviceConnections connections, StreamTokenIssuer issuer,
                         StreamGateway gateway, ScheduledExecutorService timer, String hubName, Clock clock) {
        this.negotiator = new StreamNegotiator(directory,
                (deviceId, moduleId, wait) -> connections
                        .awaitLink(deviceId, moduleId, link -> link.streamRequests().isPresent(), wait.toMillis())
                        .thenApply(link -> link.flatMap(DeviceLink::streamRequests)),
                issuer, timer, clock);
        this.gateway = gateway;
        this.hubName = hubName;
        this.clock = clock;
    }

    public void addDenialListener(DenialListener listener) {
        denialListeners.add(listener);
    }

    public String hubName() {
        return hubName;
    }

    /** See {@link StreamNegotiator#initiate}; the response timeout is capped at 60 s. */
    public CompletableFuture<StreamInitiation> initiate(String deviceId, String moduleId, String streamName,
                                                        Duration connectTimeout, Duration responseTimeout,
                                                        String initiator) {
        return negotiator.initiate(new StreamNegotiator.Request(deviceId, moduleId, streamName, connectTimeout,
                responseTimeout, initiator)).whenComplete((outcome, failure) -> {
                    if (failure instanceof StreamDeniedException denied) {
                        Instant at = clock.instant();
                        denialListeners.forEach(l -> l.denied(deviceId, moduleId, streamName, initiator,
                                denied.denial(), at));
                    }
                });
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
