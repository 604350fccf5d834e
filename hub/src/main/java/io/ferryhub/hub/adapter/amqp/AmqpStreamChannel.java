package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.adapter.NonSecretIds;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.streams.StreamService;
import io.ferryhub.signaling.StreamRequest;
import io.ferryhub.signaling.StreamRequestSink;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Device stream requests over AMQP, on the link pair at {@code /devices/{id}/streams}. The hub sends each request
 * with application properties {@code IoThub-streaming-name}, {@code IoThub-streaming-url} and
 * {@code IoThub-streaming-auth-token} and a uuid correlation id (the C SDK writes its answer's as one); the device
 * answers with the same correlation id and the boolean application property {@code IoThub-streaming-is-accepted}.
 * While both links are attached the device is a stream request sink, as one subscribed over MQTT.
 */
final class AmqpStreamChannel extends AmqpDeviceChannel implements StreamRequestSink {
    private static final Logger log = LoggerFactory.getLogger(AmqpStreamChannel.class);
    static final String NAME = "IoThub-streaming-name";
    static final String URL = "IoThub-streaming-url";
    static final String AUTH_TOKEN = "IoThub-streaming-auth-token";
    static final String IS_ACCEPTED = "IoThub-streaming-is-accepted";
    /** Requests are answered within a minute or given up by the negotiator; older ids find no request. */
    private static final int MAX_PENDING = 1024;

    private final StreamService streams;
    private final DeviceConnections connections;
    private final AmqpConnection.AmqpDeviceLink presence;
    /** The negotiator's request id for each correlation id sent, oldest first; touched on the event loop only. */
    private final Map<UUID, String> pending = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<UUID, String> eldest) {
            return size() > MAX_PENDING;
        }
    };

    AmqpStreamChannel(AmqpConnection connection, AuthenticatedDevice device, AmqpConnection.AmqpDeviceLink presence,
                      StreamService streams, DeviceConnections connections) {
        super(connection, device, presence);
        this.streams = streams;
        this.connections = connections;
        this.presence = presence;
    }

    @Override
    void opened() {
        presence.streamSink = this;
        connections.changed(presence); // wakes initiations waiting (connect timeout) for this device
    }

    @Override
    void closed() {
        presence.streamSink = null;
        pending.clear();
    }

    /** Called from request-handling threads; the send happens on the event loop. */
    @Override
    public void deliver(StreamRequest request) {
        connection.onLoop(() -> {
            if (!isOpen()) {
                log.info("amqp {}: stream request {} not sent: the streams link closed", identity(),
                        request.requestId());
                return; // the negotiator's response timeout answers the caller
            }
            UUID correlationId = NonSecretIds.uuid();
            pending.put(correlationId, request.requestId());
            Message message = Message.Factory.create();
            Properties properties = new Properties();
            properties.setMessageId(correlationId.toString());
            properties.setCorrelationId(correlationId);
            message.setProperties(properties);
            Map<String, Object> application = new LinkedHashMap<>();
            application.put(NAME, request.streamName());
            application.put(URL, request.url());
            application.put(AUTH_TOKEN, request.authToken());
            message.setApplicationProperties(new ApplicationProperties(application));
            byte[] body = " ".getBytes(StandardCharsets.US_ASCII);
            message.setBody(new Data(new Binary(body)));
            connection.send(toDevice, message, null, body.length);
        });
    }

    @Override
    void onMessage(Delivery delivery, Message answer) {
        AmqpConnection.settle(delivery, Accepted.getInstance());
        Object correlation = answer.getCorrelationId();
        String requestId = correlation == null ? null : pending.remove(correlationUuid(correlation));
        Object accepted = answer.getApplicationProperties() == null ? null
                : answer.getApplicationProperties().getValue().get(IS_ACCEPTED);
        if (requestId == null || accepted == null) {
            log.info("amqp {}: stream answer dropped: correlation id {} unknown or {} missing", identity(),
                    correlation, IS_ACCEPTED);
            return;
        }
        streams.onDeviceResponse(device.deviceId(), device.moduleId(), requestId,
                accepted instanceof Boolean b ? b : Boolean.parseBoolean(accepted.toString().trim()));
    }
}
