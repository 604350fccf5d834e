package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.streams.StreamService;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * A device's answers to stream requests: {@code $iothub/streams/res/{200|400}/?$rid={rid}}. 200 accepts, anything
 * else rejects. (The request side, {@code $iothub/streams/POST/#}, is the session's stream request sink.)
 */
public final class StreamTopicHandler implements MqttTopicHandler {
    private final StreamService streams;

    public StreamTopicHandler(StreamService streams) {
        this.streams = streams;
    }

    @Override
    public boolean ownsPublish(String topic) {
        return topic.startsWith(StreamTopics.RESPONSE_PREFIX);
    }

    @Override
    public CompletableFuture<Void> onPublish(MqttDeviceSession session, String topic, ByteBuf payload, int qos) {
        StreamTopics.Response response = StreamTopics.parseResponse(topic).orElse(null);
        if (response == null) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "a stream response topic must be " + StreamTopics.RESPONSE_PREFIX + "{status}/?$rid={rid}"));
        }
        streams.onDeviceResponse(session.identity().deviceId(), session.identity().moduleId(),
                response.requestId(), response.accepted());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean ownsSubscription(String topicFilter) {
        return topicFilter.equals(StreamTopics.REQUEST_FILTER) || topicFilter.equals(StreamTopics.RESPONSE_FILTER);
    }
}
