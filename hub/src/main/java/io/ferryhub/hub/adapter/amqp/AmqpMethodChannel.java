package io.ferryhub.hub.adapter.amqp;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.adapter.NonSecretIds;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.methods.MethodRequest;
import io.ferryhub.hub.service.methods.MethodRequestSink;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Direct methods over AMQP, on the link pair at {@code /devices/{id}[/modules/{mid}]/methods/devicebound}. The hub
 * sends each call with application property {@code IoThub-methodname}, a uuid correlation id (the Java SDK parses
 * it as one) and the JSON payload as body; the device answers with the same correlation id, application property
 * {@code IoThub-status} and its JSON payload. While both links are up, the direct method service may use them.
 */
final class AmqpMethodChannel extends AmqpDeviceChannel implements MethodRequestSink {
    private static final Logger log = LoggerFactory.getLogger(AmqpMethodChannel.class);
    static final String METHOD_NAME = "IoThub-methodname";
    static final String STATUS = "IoThub-status";
    /** The service gives up on a call after at most 300 s; ids older than that will find no call. */
    private static final long FORGET_AFTER_MILLIS = TimeUnit.SECONDS.toMillis(300);

    private record Sent(String requestId, long sentAtMillis) {
    }

    private final DirectMethodService methods;
    private final DeviceConnections connections;
    /** The service's request id for each correlation id sent, oldest first; touched on the event loop only. */
    private final Map<UUID, Sent> inFlight = new LinkedHashMap<>();
    private volatile boolean listening;

    AmqpMethodChannel(AmqpConnection connection, AuthenticatedDevice device, DeviceLink deviceLink,
                      DirectMethodService methods, DeviceConnections connections) {
        super(connection, device, deviceLink);
        this.methods = methods;
        this.connections = connections;
    }

    @Override
    void opened() {
        listening = true;
        methods.attach(deviceLink, this);
        connections.changed(deviceLink); // wakes calls waiting (connect timeout) for this device to listen
    }

    @Override
    void closed() {
        listening = false;
        methods.detach(deviceLink);
        inFlight.clear();
    }

    @Override
    public boolean ready() {
        return listening;
    }

    /** Called from the service's threads; the send happens on the event loop. */
    @Override
    public CompletableFuture<Void> deliver(MethodRequest request) {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        byte[] payload = Json.toBytes(request.payload());
        connection.onLoopOrElse(() -> {
            if (!isOpen()) {
                sent.completeExceptionally(new HubException(HubErrorCode.DeviceNotOnline, "the method link closed"));
                return;
            }
            forgetExpired();
            UUID correlationId = NonSecretIds.uuid();
            inFlight.put(correlationId, new Sent(request.requestId(), System.currentTimeMillis()));
            Message message = Message.Factory.create();
            Properties properties = new Properties();
            properties.setMessageId(correlationId.toString());
            properties.setCorrelationId(correlationId);
            message.setProperties(properties);
            message.setApplicationProperties(new ApplicationProperties(Map.of(METHOD_NAME, request.methodName())));
            message.setBody(new Data(new Binary(payload)));
            // completes when the device accepts the transfer; a rejected or lost one fails the call as not online
            connection.send(toDevice, message, sent, payload.length);
        }, () -> sent.completeExceptionally(new HubException(HubErrorCode.DeviceNotOnline,
                "the connection closed")));
        return sent;
    }

    private void forgetExpired() {
        long horizon = System.currentTimeMillis() - FORGET_AFTER_MILLIS;
        for (Iterator<Sent> it = inFlight.values().iterator(); it.hasNext(); ) {
            if (it.next().sentAtMillis() >= horizon) {
                break;
            }
            it.remove();
        }
    }

    @Override
    void onMessage(Delivery delivery, Message answer) {
        AmqpConnection.settle(delivery, Accepted.getInstance());
        Sent call = answer.getCorrelationId() == null ? null : inFlight.remove(correlationUuid(answer.getCorrelationId()));
        Object status = answer.getApplicationProperties() == null ? null
                : answer.getApplicationProperties().getValue().get(STATUS);
        if (call == null || !(status instanceof Number || status instanceof String)) {
            log.info("amqp {}: method answer dropped: correlation id {} unknown or {} missing", identity(),
                    answer.getCorrelationId(), STATUS);
            return;
        }
        int code;
        try {
            code = status instanceof Number n ? n.intValue() : Integer.parseInt(status.toString().trim());
        } catch (NumberFormatException e) {
            log.info("amqp {}: method answer dropped: {} '{}' is not a number", identity(), STATUS, status);
            return;
        }
        methods.onResponse(device.deviceId(), device.moduleId(), call.requestId(), code,
                payload(AmqpMessages.body(answer)));
    }

    /** The device's JSON answer; a body that is not JSON is passed on as a string rather than lost. */
    private static JsonNode payload(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        try {
            return Json.parse(body);
        } catch (IllegalArgumentException e) {
            return Json.MAPPER.getNodeFactory().textNode(new String(body, StandardCharsets.UTF_8));
        }
    }
}
