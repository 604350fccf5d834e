package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.ferryhub.hub.service.telemetry.DeviceMessage;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Section;
import org.apache.qpid.proton.message.Message;

import java.nio.BufferOverflowException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

/** IoT Hub's messages as AMQP messages: properties section for system properties, application properties as is. */
final class AmqpMessages {
    /** Message annotations a device may set that IoT Hub keeps as system properties. */
    private static final Map<String, String> ANNOTATED_SYSTEM_PROPERTIES = Map.of(
            "iothub-interface-id", "iothub-interface-id",
            "dt-subject", "dt-subject",
            "dt-dataschema", "dt-dataschema",
            "x-opt-output-name", "output-name");

    private AmqpMessages() {
    }

    static Message decode(byte[] bytes) {
        Message message = Message.Factory.create();
        message.decode(bytes, 0, bytes.length);
        return message;
    }

    static byte[] encode(Message message, int sizeHint) {
        int size = Math.max(1024, sizeHint * 2 + 1024);
        while (true) {
            byte[] buffer = new byte[size];
            try {
                int n = message.encode(buffer, 0, buffer.length);
                byte[] exact = new byte[n];
                System.arraycopy(buffer, 0, exact, 0, n);
                return exact;
            } catch (BufferOverflowException e) {
                size *= 2;
            }
        }
    }

    static byte[] body(Message message) {
        Section body = message.getBody();
        if (body instanceof Data data && data.getValue() != null) {
            Binary b = data.getValue();
            byte[] out = new byte[b.getLength()];
            System.arraycopy(b.getArray(), b.getArrayOffset(), out, 0, b.getLength());
            return out;
        }
        if (body instanceof AmqpValue value) {
            Object v = value.getValue();
            if (v instanceof Binary b) {
                byte[] out = new byte[b.getLength()];
                System.arraycopy(b.getArray(), b.getArrayOffset(), out, 0, b.getLength());
                return out;
            }
            if (v != null) {
                return v.toString().getBytes(StandardCharsets.UTF_8);
            }
        }
        return new byte[0];
    }

    static Map<String, String> applicationProperties(Message message) {
        Map<String, String> out = new LinkedHashMap<>();
        ApplicationProperties props = message.getApplicationProperties();
        if (props != null && props.getValue() != null) {
            props.getValue().forEach((k, v) -> out.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
        }
        return out;
    }

    /** A device's telemetry message. */
    static DeviceMessage toDeviceMessage(Message message) {
        Map<String, String> system = new LinkedHashMap<>();
        putIfSet(system, "message-id", message.getMessageId());
        putIfSet(system, "correlation-id", message.getCorrelationId());
        if (message.getUserId() != null) {
            system.put("user-id", new String(message.getUserId(), StandardCharsets.UTF_8));
        }
        putIfSet(system, "to", message.getAddress());
        putIfSet(system, "content-type", message.getContentType());
        putIfSet(system, "content-encoding", message.getContentEncoding());
        if (message.getExpiryTime() > 0) {
            system.put("absolute-expiry-time", Instant.ofEpochMilli(message.getExpiryTime()).toString());
        }
        if (message.getCreationTime() > 0) {
            system.put("creation-time", Instant.ofEpochMilli(message.getCreationTime()).toString());
        }
        MessageAnnotations annotations = message.getMessageAnnotations();
        if (annotations != null && annotations.getValue() != null) {
            annotations.getValue().forEach((k, v) -> {
                String name = ANNOTATED_SYSTEM_PROPERTIES.get(String.valueOf(k));
                if (name != null && v != null) {
                    system.put(name, String.valueOf(v));
                }
            });
        }
        return new DeviceMessage(system, applicationProperties(message), body(message));
    }

    /** A back-end's cloud-to-device message; the device id is in {@code to}. */
    static OutgoingMessage toOutgoing(Message message) {
        Map<String, String> application = applicationProperties(message);
        String ack = application.remove("iothub-ack");
        Instant expiry = message.getExpiryTime() > 0 ? Instant.ofEpochMilli(message.getExpiryTime()) : null;
        String userId = message.getUserId() == null ? null : new String(message.getUserId(), StandardCharsets.UTF_8);
        return new OutgoingMessage(stringOrNull(message.getMessageId()), stringOrNull(message.getCorrelationId()),
                userId, ack, expiry, application, body(message), message.getContentType(),
                message.getContentEncoding());
    }

    /** A queued cloud-to-device message as the device receives it. */
    static Message fromC2d(C2dMessage c2d) {
        Message message = Message.Factory.create();
        Properties properties = new Properties();
        properties.setMessageId(c2d.messageId());
        properties.setTo("/devices/" + c2d.deviceId() + "/messages/deviceBound");
        if (c2d.correlationId() != null) {
            properties.setCorrelationId(c2d.correlationId());
        }
        if (c2d.userId() != null) {
            properties.setUserId(new Binary(c2d.userId().getBytes(StandardCharsets.UTF_8)));
        }
        if (c2d.contentType() != null) {
            properties.setContentType(Symbol.valueOf(c2d.contentType()));
        }
        if (c2d.contentEncoding() != null) {
            properties.setContentEncoding(Symbol.valueOf(c2d.contentEncoding()));
        }
        properties.setAbsoluteExpiryTime(new Date(c2d.expiryMillis()));
        properties.setCreationTime(new Date(c2d.enqueuedMillis()));
        message.setProperties(properties);
        Map<String, Object> application = new LinkedHashMap<>(c2d.properties());
        application.put("iothub-ack", c2d.ack());
        message.setApplicationProperties(new ApplicationProperties(application));
        Map<Symbol, Object> annotations = new LinkedHashMap<>();
        annotations.put(Symbol.valueOf("x-opt-sequence-number"), c2d.sequenceNumber());
        annotations.put(Symbol.valueOf("iothub-enqueuedtime"), new Date(c2d.enqueuedMillis()));
        annotations.put(Symbol.valueOf("iothub-deliverycount"), c2d.deliveryCount());
        message.setMessageAnnotations(new MessageAnnotations(annotations));
        message.setBody(new Data(new Binary(c2d.body())));
        return message;
    }

    private static void putIfSet(Map<String, String> out, String name, Object value) {
        if (value != null) {
            out.put(name, value.toString());
        }
    }

    private static String stringOrNull(Object value) {
        return value == null ? null : value.toString();
    }
}
