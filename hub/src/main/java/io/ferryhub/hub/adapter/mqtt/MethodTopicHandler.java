package io.ferryhub.hub.adapter.mqtt;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.methods.MethodRequest;
import io.ferryhub.hub.service.methods.MethodRequestSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Direct methods over MQTT. A session subscribed to {@code $iothub/methods/POST/#} receives calls at QoS 0 on
 * {@code $iothub/methods/POST/{name}/?$rid={rid}} (the C# SDK needs that last level to be exactly {@code ?$rid=});
 * it answers on {@code $iothub/methods/res/{status}/?$rid={rid}} with a JSON body.
 */
public final class MethodTopicHandler implements MqttTopicHandler {
    static final String REQUEST_PREFIX = "$iothub/methods/POST/";
    static final String RESPONSE_PREFIX = "$iothub/methods/res/";
    /** The one filter IoT Hub serves for methods; a filter for one method name is refused, as IoT Hub does. */
    static final String REQUEST_FILTER = REQUEST_PREFIX + "#";
    private static final String PROBE = REQUEST_PREFIX + "probe/?$rid=0";

    private final DirectMethodService methods;

    public MethodTopicHandler(DirectMethodService methods) {
        this.methods = methods;
    }

    @Override
    public boolean ownsPublish(String topic) {
        return topic.startsWith(RESPONSE_PREFIX);
    }

    @Override
    public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
        int status = IotHubTopics.statusOf(topic, RESPONSE_PREFIX);
        String rid = IotHubTopics.queryOf(topic).get("$rid");
        if (status < 0 || rid == null || rid.isEmpty()) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "a method response topic must be " + RESPONSE_PREFIX + "{status}/?$rid={rid}"));
        }
        methods.onResponse(session.identity().deviceId(), session.identity().moduleId(), rid, status,
                body(payload));
        return CompletableFuture.completedFuture(null);
    }

    /** The device's JSON answer; a body that is not JSON is passed on as a string rather than lost. */
    private static JsonNode body(ByteBuf payload) {
        if (!payload.isReadable()) {
            return null;
        }
        byte[] bytes = ByteBufUtil.getBytes(payload);
        try {
            return Json.parse(bytes);
        } catch (IllegalArgumentException e) {
            return Json.MAPPER.getNodeFactory().textNode(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    @Override
    public boolean ownsSubscription(String topicFilter) {
        return topicFilter.equals(REQUEST_FILTER);
    }

    @Override
    public void onSubscribed(MqttDeviceSession session, String topicFilter) {
        methods.attach(session, new MethodRequestSink() {
            @Override
            public boolean ready() {
                return session.isSubscribed(PROBE);
            }

            @Override
            public CompletableFuture<Void> deliver(MethodRequest request) {
                String topic = REQUEST_PREFIX + request.methodName() + "/?$rid=" + request.requestId();
                if (!session.isSubscribed(topic)) {
                    return CompletableFuture.failedFuture(new HubException(HubErrorCode.DeviceNotOnline,
                            "no longer subscribed to method requests"));
                }
                return session.publish(topic, Json.toBytes(request.payload()), 0);
            }
        });
    }

    @Override
    public void onSessionClosed(MqttDeviceSession session) {
        methods.detach(session);
    }
}
