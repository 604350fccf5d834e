package io.ferryhub.hub.service.streams;

import io.ferryhub.common.error.HubException;
import io.ferryhub.common.metrics.Metrics;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Device streams as the hub runs them: signaling through whichever transport a device is connected by, and the
 * operator's view of the streams relayed by the embedded gateway.
 */
public final class StreamService {
    private final StreamNegotiator negotiator;
    private final StreamGateway gateway;
    private final Clock clock;
    private final List<DenialListener> denialListeners = new CopyOnWriteArrayList<>();
    private final List<RequestListener> requestListeners = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics();
    private final Metrics.Counter requests = metrics.counter("ferryhub_stream_requests_total",
            "Stream requests by outcome: accepted, rejected (by the device), or the error code that ended them "
                    + "(StreamPolicy*Denied, DeviceNotOnline, GatewayTimeout...), and the shared access policy that "
                    + "asked", "outcome", "policy");
    private final Metrics.Histogram negotiation = metrics.histogram("ferryhub_stream_setup_seconds",
            "From a stream request reaching the hub to the device's answer (accepted or rejected)", 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);

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
                         StreamGateway gateway, ScheduledExecutorService timer, Clock clock) {
        this.negotiator = new StreamNegotiator(directory,
                (deviceId, moduleId, wait) -> connections
                        .awaitLink(deviceId, moduleId, link -> link.streamRequests().isPresent(), wait.toMillis())
                        .thenApply(link -> link.flatMap(l -> l.streamRequests().map(sink -> request -> {
                            // which connection (and credential) the device side of this stream came through
                            requestListeners.forEach(r -> r.delivered(l, request));
                            sink.deliver(request);
                        }))),
                issuer, timer, clock);
        this.gateway = gateway;
        this.clock = clock;
    }

    /** Told of each stream request as it is handed to a device link (must not block). */
    public interface RequestListener {
        void delivered(DeviceLink link, io.ferryhub.signaling.StreamRequest request);
    }

    public void addRequestListener(RequestListener listener) {
        requestListeners.add(listener);
    }

    public void addDenialListener(DenialListener listener) {
        denialListeners.add(listener);
    }

    /** Stream request outcomes and set-up latency (Prometheus text format). */
    public Metrics metrics() {
        return metrics;
    }

    /**
     * See {@link StreamNegotiator#initiate}; the response timeout is capped at 60 s. {@code initiatorKey} is the id
     * of the initiator's key that signed the request: the stream closes when that key is regenerated.
     */
    public CompletableFuture<StreamInitiation> initiate(String deviceId, String moduleId, String streamName,
                                                        Duration connectTimeout, Duration responseTimeout,
                                                        String initiator, String initiatorKey) {
        long started = System.nanoTime();
        return negotiator.initiate(new StreamNegotiator.Request(deviceId, moduleId, streamName, connectTimeout,
                responseTimeout, initiator, initiatorKey)).whenComplete((outcome, failure) -> {
                    if (outcome != null) {
                        negotiation.observe((System.nanoTime() - started) / 1e9);
                        requests.inc(outcome.accepted() ? "accepted" : "rejected", initiator);
                    } else {
                        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                                ? failure.getCause() : failure;
                        requests.inc(cause instanceof HubException e ? e.errorCode().name() : "error", initiator);
                    }
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
