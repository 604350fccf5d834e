package io.ferryhub.hub.service.methods;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.registry.RegistryService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct methods: a call waits (up to its connect timeout) for the device to be connected and listening, is sent
 * with a hub-chosen request id, and completes with the device's answer or, after the response timeout, with
 * 504101. Nothing blocks a thread while waiting. Answers that come after the timeout, or from another identity,
 * are dropped.
 */
public final class DirectMethodService {
    private static final Logger log = LoggerFactory.getLogger(DirectMethodService.class);
    public static final int MAX_PAYLOAD_BYTES = 128 * 1024;
    static final int DEFAULT_RESPONSE_TIMEOUT = 30;
    static final int MIN_RESPONSE_TIMEOUT = 5;
    static final int MAX_TIMEOUT = 300;

    private final RegistryService registry;
    private final DeviceConnections connections;
    private final ScheduledExecutorService timer;
    private final Executor executor;
    private final Map<DeviceLink, MethodRequestSink> sinks = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();

    private record Pending(String deviceId, String moduleId, String methodName, CompletableFuture<MethodResult> result,
                           ScheduledFuture<?> timeout) {
    }

    /** @param executor where callers' continuations run, so no transport thread completes them */
    public DirectMethodService(RegistryService registry, DeviceConnections connections,
                               ScheduledExecutorService timer, Executor executor) {
        this.registry = registry;
        this.connections = connections;
        this.timer = timer;
        this.executor = executor;
    }

    /** A transport's link now takes method requests through {@code sink}. */
    public void attach(DeviceLink link, MethodRequestSink sink) {
        sinks.put(link, sink);
    }

    public void detach(DeviceLink link) {
        sinks.remove(link);
    }

    /** Invokes a method on a device ({@code moduleId == null}) or module. */
    public CompletableFuture<MethodResult> invoke(String deviceId, String moduleId, MethodCall call) {
        checkMethodName(call.methodName());
        int responseTimeout = call.responseTimeoutSeconds() == null ? DEFAULT_RESPONSE_TIMEOUT
                : call.responseTimeoutSeconds();
        if (responseTimeout < MIN_RESPONSE_TIMEOUT || responseTimeout > MAX_TIMEOUT) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "responseTimeoutInSeconds must be between "
                    + MIN_RESPONSE_TIMEOUT + " and " + MAX_TIMEOUT + ", not " + responseTimeout);
        }
        int connectTimeout = call.connectTimeoutSeconds() == null ? 0 : call.connectTimeoutSeconds();
        if (connectTimeout < 0 || connectTimeout > MAX_TIMEOUT) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "connectTimeoutInSeconds must be between 0 and "
                    + MAX_TIMEOUT + ", not " + connectTimeout);
        }
        JsonNode payload = call.payload() == null ? Json.MAPPER.nullNode() : call.payload();
        int size = Json.toBytes(payload).length;
        if (size > MAX_PAYLOAD_BYTES) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "The method payload (" + size
                    + " bytes) exceeds the limit of " + MAX_PAYLOAD_BYTES + " bytes");
        }
        boolean enabled = registry.device(deviceId).isEnabled();
        if (moduleId != null) {
            registry.module(deviceId, moduleId);
        }
        if (!enabled) {
            // IoT Hub's 404001 covers a device that is "either not registered or disabled"
            throw new HubException(HubErrorCode.DeviceNotFound, "Device " + deviceId + " is disabled");
        }
        return connections.awaitLink(deviceId, moduleId, this::listening, TimeUnit.SECONDS.toMillis(connectTimeout))
                .thenComposeAsync(link -> send(deviceId, moduleId, call.methodName(), payload, link,
                        responseTimeout), executor);
    }

    private boolean listening(DeviceLink link) {
        MethodRequestSink sink = sinks.get(link);
        return sink != null && sink.ready();
    }

    private CompletableFuture<MethodResult> send(String deviceId, String moduleId, String methodName,
                                                 JsonNode payload, Optional<DeviceLink> link, int responseTimeout) {
        MethodRequestSink sink = link.map(sinks::get).orElse(null);
        if (sink == null) {
            return CompletableFuture.failedFuture(notOnline(deviceId, moduleId));
        }
        String requestId = Long.toString(requestIds.incrementAndGet());
        CompletableFuture<MethodResult> result = new CompletableFuture<>();
        ScheduledFuture<?> timeout = timer.schedule(() -> {
            Pending expired = pending.remove(requestId);
            if (expired != null) {
                log.info("method {} on {} (request {}) timed out after {} s", methodName, name(deviceId, moduleId),
                        requestId, responseTimeout);
                executor.execute(() -> expired.result().completeExceptionally(new HubException(
                        HubErrorCode.GatewayTimeout, "Timed out waiting for the response from device.")));
            }
        }, responseTimeout, TimeUnit.SECONDS);
        pending.put(requestId, new Pending(deviceId, moduleId, methodName, result, timeout));
        sink.deliver(new MethodRequest(requestId, methodName, payload)).whenComplete((ok, error) -> {
            if (error != null) {
                Pending failed = pending.remove(requestId);
                if (failed != null) {
                    failed.timeout().cancel(false);
                    executor.execute(() -> failed.result().completeExceptionally(notOnline(deviceId, moduleId)));
                }
            }
        });
        return result;
    }

    /** A device's answer; dropped when no call waits for it (late, unknown, or from another identity). */
    public void onResponse(String deviceId, String moduleId, String requestId, int status, JsonNode payload) {
        Pending call = pending.get(requestId);
        if (call == null || !call.deviceId().equals(deviceId) || !Objects.equals(call.moduleId(), moduleId)
                || !pending.remove(requestId, call)) {
            log.info("method response {} from {} dropped: no call waits for it (timed out?)", requestId,
                    name(deviceId, moduleId));
            return;
        }
        call.timeout().cancel(false);
        log.debug("method {} on {} answered {}", call.methodName(), name(deviceId, moduleId), status);
        executor.execute(() -> call.result().complete(new MethodResult(status, payload)));
    }

    /** Calls waiting for an answer, hub-wide. */
    public int inFlight() {
        return pending.size();
    }

    /** IoT Hub's method name rule: printable US-ASCII without separators. */
    static void checkMethodName(String name) {
        if (name == null || name.isEmpty()) {
            throw new HubException(HubErrorCode.ArgumentNull, "methodName is required");
        }
        if (name.length() > 128) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "methodName is longer than 128 characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "$()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                throw new HubException(HubErrorCode.ArgumentInvalid, "methodName contains a character IoT Hub "
                        + "does not allow (US-ASCII printable characters except $ ( ) < > @ , ; : \\ \" / [ ] ? = "
                        + "{ } and space)");
            }
        }
    }

    private static HubException notOnline(String deviceId, String moduleId) {
        return new HubException(HubErrorCode.DeviceNotOnline, "The operation failed because the requested device "
                + "isn't online or hasn't registered the direct method callback: " + name(deviceId, moduleId));
    }

    private static String name(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
