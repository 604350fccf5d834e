package io.ferryhub.signaling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the signaling half of a device stream: checks the identity, waits for it to be reachable, hands it a stream
 * request (URL and signed token) and waits for its accept or reject. Answers that arrive after the response timeout
 * are dropped: the back-end has already been told 504101.
 */
public final class StreamNegotiator {
    private static final Logger log = LoggerFactory.getLogger(StreamNegotiator.class);

    /** IoT Hub's ceiling for the device's answer. */
    public static final Duration MAX_RESPONSE_TIMEOUT = Duration.ofSeconds(60);

    private final DeviceDirectory directory;
    private final StreamRequestRoutes routes;
    private final StreamTokenIssuer issuer;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    /**
     * What the back-end asked for. {@code moduleId} null for a device stream; {@code initiator} the shared access
     * policy asking, {@code initiatorKey} the id of its key that signed the request (null when unknown).
     */
    public record Request(String deviceId, String moduleId, String streamName, Duration connectTimeout,
                          Duration responseTimeout, String initiator, String initiatorKey) {
        public Request(String deviceId, String moduleId, String streamName, Duration connectTimeout,
                       Duration responseTimeout, String initiator) {
            this(deviceId, moduleId, streamName, connectTimeout, responseTimeout, initiator, null);
        }
    }

    private record Pending(StreamRequest request, CompletableFuture<StreamInitiation> result,
                           ScheduledFuture<?> deadline) {
    }

    public StreamNegotiator(DeviceDirectory directory, StreamRequestRoutes routes, StreamTokenIssuer issuer,
                            ScheduledExecutorService timer, Clock clock) {
        this.directory = directory;
        this.routes = routes;
        this.issuer = issuer;
        this.timer = timer;
        this.clock = clock;
    }

    /**
     * Starts a stream. The future completes with the device's answer, or fails with a {@link HubException}:
     * DeviceNotFound (not registered or disabled, as IoT Hub defines 404001) / ModuleNotFound, DeviceNotOnline (not
     * subscribed within the connect timeout), GatewayTimeout (no answer within the response timeout), or a
     * {@link StreamDeniedException} when the identity's stream policy does not allow it.
     */
    public CompletableFuture<StreamInitiation> initiate(Request request) {
        String who = request.moduleId() == null ? request.deviceId() : request.deviceId() + "/" + request.moduleId();
        if (!isValidStreamName(request.streamName())) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "a stream name must be 1 to 128 characters without '/', '+', '#' or control characters"));
        }
        switch (directory.state(request.deviceId(), request.moduleId())) {
            case DEVICE_NOT_FOUND:
                return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotFound,
                        "device " + request.deviceId() + " is not registered"));
            case MODULE_NOT_FOUND:
                return CompletableFuture.failedFuture(new HubException(HubErrorCode.ModuleNotFound,
                        "module " + who + " is not registered"));
            case DISABLED:
                log.info("stream '{}' to {} refused: the identity is disabled", request.streamName(), who);
                return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotFound,
                        who + " is disabled"));
            case ENABLED:
                break;
        }
        StreamPolicy policy = directory.streamPolicy(request.deviceId(), request.moduleId()).orElse(null);
        StreamPolicy grant = null;
        if (policy != null) {
            StreamPolicy.Denial denial = policy.checkStream(request.initiator(), request.streamName(), clock.instant());
            if (denial != null) {
                log.info("stream '{}' to {} by {} denied: {}", request.streamName(), who, request.initiator(),
                        denial.message());
                return CompletableFuture.failedFuture(new StreamDeniedException(denial));
            }
            grant = policy.narrowTo(request.initiator(), request.streamName());
        }
        StreamPolicy tokenGrant = grant;
        Duration responseTimeout = request.responseTimeout().compareTo(MAX_RESPONSE_TIMEOUT) > 0
                ? MAX_RESPONSE_TIMEOUT : request.responseTimeout();
        return routes.awaitSink(request.deviceId(), request.moduleId(), request.connectTimeout())
                .thenCompose(sink -> deliver(request, who, sink, responseTimeout, tokenGrant));
    }

    private CompletableFuture<StreamInitiation> deliver(Request request, String who,
                                                        Optional<StreamRequestSink> sink, Duration responseTimeout,
                                                        StreamPolicy grant) {
        if (sink.isEmpty()) {
            log.info("stream '{}' to {} refused: not connected and subscribed to stream requests within {} ms",
                    request.streamName(), who, request.connectTimeout().toMillis());
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotOnline,
                    who + " is not connected or not subscribed to stream requests"));
        }
        String streamId = UUID.randomUUID().toString().replace("-", "");
        Instant now = clock.instant();
        StreamRequest streamRequest = issuer.issue(streamId, request.deviceId(), request.moduleId(),
                request.streamName(), request.initiator(), request.initiatorKey(), now.plus(responseTimeout), grant);
        CompletableFuture<StreamInitiation> result = new CompletableFuture<>();
        ScheduledFuture<?> deadline = timer.schedule(() -> {
            if (pending.remove(streamRequest.requestId()) != null) {
                log.info("stream {} '{}' to {}: no answer within {} ms", streamId, request.streamName(), who,
                        responseTimeout.toMillis());
                result.completeExceptionally(new HubException(HubErrorCode.GatewayTimeout,
                        "Timed out waiting for the response from device."));
            }
        }, responseTimeout.toMillis(), TimeUnit.MILLISECONDS);
        pending.put(streamRequest.requestId(), new Pending(streamRequest, result, deadline));
        log.info("stream {} '{}' requested of {} by {}", streamId, request.streamName(), who, request.initiator());
        try {
            sink.get().deliver(streamRequest);
        } catch (RuntimeException e) {
            pending.remove(streamRequest.requestId());
            deadline.cancel(false);
            log.warn("stream {} to {}: delivering the request failed: {}", streamId, who, e.toString());
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotOnline,
                    who + " could not be reached: " + e.getMessage()));
        }
        return result;
    }

    /**
     * A device's answer to request {@code requestId}; ignored (and logged) when it is late, unknown, or comes from
     * an identity other than the one asked.
     */
    public void onDeviceResponse(String deviceId, String moduleId, String requestId, boolean accepted) {
        Pending p = pending.get(requestId);
        if (p == null || !p.request().deviceId().equals(deviceId)
                || !Objects.equals(p.request().moduleId(), moduleId)) {
            log.info("dropping a stream answer from {}{} for request {}: none pending (late or unknown)", deviceId,
                    moduleId == null ? "" : "/" + moduleId, requestId);
            return;
        }
        if (!pending.remove(requestId, p)) {
            return;
        }
        p.deadline().cancel(false);
        StreamRequest r = p.request();
        log.info("stream {} '{}' {} by {}{}", r.streamId(), r.streamName(), accepted ? "accepted" : "rejected",
                deviceId, moduleId == null ? "" : "/" + moduleId);
        p.result().complete(accepted
                ? new StreamInitiation(r.streamId(), true, r.url(), r.serviceAuthToken())
                : new StreamInitiation(r.streamId(), false, null, null));
    }

    /** The name becomes one level of an MQTT topic, so it cannot hold a level separator or a wildcard. */
    private static boolean isValidStreamName(String name) {
        if (name.isEmpty() || name.length() > 128) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c == '+' || c == '#' || Character.isISOControl(c)) {
                return false;
            }
        }
        return true;
    }

    /** Requests waiting for a device's answer. */
    public int pendingCount() {
        return pending.size();
    }
}
