package io.ferryhub.hub.adapter.amqp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.twin.TwinService;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Twins over AMQP, on the link pair at {@code /devices/{id}[/modules/{mid}]/twin}. The device's requests carry
 * message annotations {@code operation} and {@code resource} and a correlation id:
 * <ul>
 *   <li>{@code GET} → status 200, body {@code {"desired":...,"reported":...}};</li>
 *   <li>{@code PATCH /properties/reported} with the patch as body → status 204 and annotation {@code version},
 *       the new reported version;</li>
 *   <li>{@code PUT} / {@code DELETE /notifications/twin/properties/desired} → status 200; while subscribed, desired
 *       changes come as messages without correlation id, annotation {@code version}, the patch as body.</li>
 * </ul>
 * Each answer echoes the request's correlation id with the HTTP status in annotation {@code status}; a refused
 * request gets the error's status and IoT Hub's error JSON, the links stay up.
 */
final class AmqpTwinChannel extends AmqpDeviceChannel {
    private static final Logger log = LoggerFactory.getLogger(AmqpTwinChannel.class);
    static final Symbol OPERATION = Symbol.valueOf("operation");
    static final Symbol RESOURCE = Symbol.valueOf("resource");
    static final Symbol STATUS = Symbol.valueOf("status");
    static final Symbol VERSION = Symbol.valueOf("version");
    static final String REPORTED = "/properties/reported";
    static final String DESIRED_NOTIFICATIONS = "/notifications/twin/properties/desired";

    private final TwinService twins;
    private final AmqpTwinNotifications notifications;
    private boolean subscribed;

    AmqpTwinChannel(AmqpConnection connection, AuthenticatedDevice device, DeviceLink deviceLink, TwinService twins,
                    AmqpTwinNotifications notifications) {
        super(connection, device, deviceLink);
        this.twins = twins;
        this.notifications = notifications;
    }

    private record Answer(int status, Long version, byte[] body) {
    }

    @Override
    void onMessage(Delivery delivery, Message request) {
        Object correlationId = request.getCorrelationId();
        String operation = annotation(request, OPERATION);
        String resource = annotation(request, RESOURCE);
        if (correlationId == null) {
            AmqpConnection.settle(delivery, AmqpConnection.rejected(AmqpErrors.of(HubErrorCode.ArgumentInvalid,
                    "a twin request needs a correlation-id")));
            return;
        }
        AmqpConnection.settle(delivery, Accepted.getInstance());
        if ("PUT".equals(operation) || "DELETE".equals(operation)) {
            if (!DESIRED_NOTIFICATIONS.equals(resource)) {
                reply(correlationId, failure(new HubException(HubErrorCode.ArgumentInvalid, operation
                        + " takes resource " + DESIRED_NOTIFICATIONS + ", not " + resource)));
                return;
            }
            subscribe("PUT".equals(operation));
            reply(correlationId, new Answer(200, null, new byte[0]));
            return;
        }
        if (!"GET".equals(operation) && !("PATCH".equals(operation) && REPORTED.equals(resource))) {
            reply(correlationId, failure(new HubException(HubErrorCode.ArgumentInvalid, "unknown twin operation "
                    + operation + " " + (resource == null ? "" : resource))));
            return;
        }
        byte[] body = AmqpMessages.body(request);
        String deviceId = device.deviceId();
        String moduleId = device.moduleId();
        connection.offLoop(() -> {
            try {
                if ("GET".equals(operation)) {
                    return new Answer(200, null, Json.toBytes(twins.deviceView(deviceId, moduleId)));
                }
                JsonNode patch;
                try {
                    patch = Json.parse(body);
                } catch (IllegalArgumentException e) {
                    throw new HubException(HubErrorCode.IotHubFormatError, "the reported patch is not JSON");
                }
                return new Answer(204, twins.reportProperties(deviceId, moduleId, patch), new byte[0]);
            } catch (HubException e) {
                log.info("amqp {}: twin {} refused: {} {}", identity(), operation, e.errorCode(), e.getMessage());
                return failure(e);
            }
        }).whenComplete((answer, error) -> connection.onLoop(() -> reply(correlationId,
                error == null ? answer : failure(new HubException(HubErrorCode.ServerError, "the twin is out of reach")))));
    }

    private static Answer failure(HubException e) {
        ObjectNode body = Json.object().put("errorCode", e.errorCode().code()).put("message", e.getMessage());
        return new Answer(e.errorCode().httpStatus(), null, Json.toBytes(body));
    }

    private void subscribe(boolean on) {
        if (on != subscribed) {
            subscribed = on;
            if (on) {
                notifications.add(this);
            } else {
                notifications.remove(this);
            }
        }
    }

    @Override
    void closed() {
        subscribe(false);
    }

    private void reply(Object correlationId, Answer answer) {
        if (!isOpen()) {
            return; // the device left before its answer was ready
        }
        Message reply = Message.Factory.create();
        Properties properties = new Properties();
        properties.setCorrelationId(correlationId);
        reply.setProperties(properties);
        Map<Symbol, Object> annotations = new LinkedHashMap<>();
        annotations.put(STATUS, answer.status());
        if (answer.version() != null) {
            annotations.put(VERSION, answer.version());
        }
        reply.setMessageAnnotations(new MessageAnnotations(annotations));
        reply.setBody(new Data(new Binary(answer.body())));
        connection.send(toDevice, reply, null, answer.body().length);
    }

    /** On the event loop: a desired-properties patch, with its {@code $version}, to a subscribed device. */
    void desiredChanged(byte[] patch, long version) {
        if (!subscribed || !isOpen()) {
            return;
        }
        Message message = Message.Factory.create();
        message.setMessageAnnotations(new MessageAnnotations(Map.of(VERSION, version)));
        message.setBody(new Data(new Binary(patch)));
        connection.send(toDevice, message, null, patch.length);
    }

    private static String annotation(Message message, Symbol key) {
        MessageAnnotations annotations = message.getMessageAnnotations();
        Object value = annotations == null || annotations.getValue() == null ? null : annotations.getValue().get(key);
        return value == null ? null : value.toString();
    }
}
