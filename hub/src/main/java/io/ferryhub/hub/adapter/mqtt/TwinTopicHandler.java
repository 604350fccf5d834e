package io.ferryhub.hub.adapter.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.twin.TwinChangeListener;
import io.ferryhub.hub.service.twin.TwinService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Twins over MQTT, IoT Hub's topics:
 * <ul>
 *   <li>{@code $iothub/twin/GET/?$rid={rid}} → {@code $iothub/twin/res/200/?$rid={rid}} with desired and reported;</li>
 *   <li>{@code $iothub/twin/PATCH/properties/reported/?$rid={rid}} (the Java SDK adds {@code &$version=}) →
 *       {@code $iothub/twin/res/204/?$rid={rid}&$version={new reported version}};</li>
 *   <li>desired changes → {@code $iothub/twin/PATCH/properties/desired/?$version={n}} with the patch and its
 *       {@code $version}, to sessions subscribed to {@code $iothub/twin/PATCH/properties/desired/#}.</li>
 * </ul>
 * A request the twin service refuses is answered with the error's HTTP status on the response topic (the
 * connection stays up); twin work runs on the hub's request executor, never on the event loop.
 */
public final class TwinTopicHandler implements MqttTopicHandler, TwinChangeListener {
    private static final Logger log = LoggerFactory.getLogger(TwinTopicHandler.class);
    static final String PREFIX = "$iothub/twin/";
    static final String GET_PREFIX = "$iothub/twin/GET/";
    static final String REPORTED_PREFIX = "$iothub/twin/PATCH/properties/reported/";
    static final String DESIRED_PREFIX = "$iothub/twin/PATCH/properties/desired/";
    static final String RESPONSE_PREFIX = "$iothub/twin/res/";
    /** The two filters IoT Hub serves for twins; any other filter under {@code $iothub/twin/} is refused. */
    static final String RESPONSE_FILTER = RESPONSE_PREFIX + "#";
    static final String DESIRED_FILTER = DESIRED_PREFIX + "#";

    private final TwinService twins;
    private final Executor executor;
    /** Sessions that subscribed to desired notifications, by identity ({@code deviceId} or {@code deviceId/moduleId}). */
    private final Map<String, Set<MqttDeviceSession>> desiredSubscribers = new ConcurrentHashMap<>();

    public TwinTopicHandler(TwinService twins, Executor executor) {
        this.twins = twins;
        this.executor = executor;
        twins.addListener(this);
    }

    @Override
    public boolean ownsPublish(String topic) {
        return topic.startsWith(GET_PREFIX) || topic.startsWith(REPORTED_PREFIX);
    }

    @Override
    public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
        String rid = IotHubTopics.queryOf(topic).get("$rid");
        if (rid == null || rid.isEmpty()) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "a twin request topic needs ?$rid="));
        }
        String deviceId = session.identity().deviceId();
        String moduleId = session.identity().moduleId();
        boolean get = topic.startsWith(GET_PREFIX);
        byte[] body = ByteBufUtil.getBytes(payload);
        return CompletableFuture.supplyAsync(() -> {
            try {
                if (get) {
                    return reply(session, 200, rid, null, Json.toBytes(twins.deviceView(deviceId, moduleId)));
                }
                JsonNode patch;
                try {
                    patch = Json.parse(body);
                } catch (IllegalArgumentException e) {
                    throw new HubException(HubErrorCode.IotHubFormatError, "the reported patch is not JSON");
                }
                long version = twins.reportProperties(deviceId, moduleId, patch);
                return reply(session, 204, rid, version, new byte[0]);
            } catch (HubException e) {
                log.info("mqtt {}: twin {} refused: {} {}", session.identity().clientId(), get ? "GET" : "PATCH",
                        e.errorCode(), e.getMessage());
                return reply(session, e.errorCode().httpStatus(), rid, null, errorBody(e));
            }
        }, executor).thenCompose(f -> f);
    }

    private static CompletableFuture<Void> reply(MqttDeviceSession session, int status, String rid, Long version,
                                                 byte[] body) {
        String topic = RESPONSE_PREFIX + status + "/?$rid=" + rid + (version == null ? "" : "&$version=" + version);
        // the reply is on its way once queued on the connection; a device gone meanwhile is not our failure
        session.publish(topic, body, 0).exceptionally(e -> null);
        return CompletableFuture.completedFuture(null);
    }

    private static byte[] errorBody(HubException e) {
        ObjectNode body = Json.object().put("errorCode", e.errorCode().code()).put("message", e.getMessage());
        return Json.toBytes(body);
    }

    @Override
    public boolean ownsSubscription(String topicFilter) {
        return topicFilter.equals(RESPONSE_FILTER) || topicFilter.equals(DESIRED_FILTER);
    }

    @Override
    public void onSubscribed(MqttDeviceSession session, String topicFilter) {
        if (topicFilter.equals(DESIRED_FILTER)) {
            desiredSubscribers.computeIfAbsent(key(session.identity().deviceId(), session.identity().moduleId()),
                    k -> ConcurrentHashMap.newKeySet()).add(session);
        }
    }

    @Override
    public void onSessionClosed(MqttDeviceSession session) {
        String key = key(session.identity().deviceId(), session.identity().moduleId());
        desiredSubscribers.computeIfPresent(key, (k, set) -> {
            set.remove(session);
            return set.isEmpty() ? null : set;
        });
    }

    /** Called under the twin's lock, in version order: publishing only enqueues on the connection. */
    @Override
    public void desiredChanged(String deviceId, String moduleId, ObjectNode patch) {
        Set<MqttDeviceSession> sessions = desiredSubscribers.get(key(deviceId, moduleId));
        if (sessions == null) {
            return;
        }
        String topic = DESIRED_PREFIX + "?$version=" + patch.get("$version").asLong();
        byte[] body = Json.toBytes(patch);
        for (MqttDeviceSession session : sessions) {
            if (session.isSubscribed(topic)) {
                session.publish(topic, body, 0).exceptionally(e -> {
                    log.debug("desired notification to {} not delivered: {}", session.identity().clientId(),
                            e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                    return null;
                });
            }
        }
    }

    private static String key(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
