package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.DescribedType;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.DeliveryAnnotations;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.message.Message;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stored telemetry as Event Hubs readers receive it, and their start positions: the selector filter
 * {@code amqp.annotation.x-opt-offset > '...'} (or {@code >=}, or on {@code x-opt-sequence-number} /
 * {@code x-opt-enqueued-time}) that Event Hubs clients put on a receiver's source.
 */
final class EventHubsMessages {
    static final Symbol SELECTOR_FILTER = Symbol.valueOf("apache.org:selector-filter:string");
    private static final Pattern SELECTOR = Pattern.compile(
            "\\s*amqp\\.annotation\\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\\s*(>=|>)\\s*'([^']*)'\\s*",
            Pattern.CASE_INSENSITIVE);
    /** Event Hubs' special offsets: before the first event, and after the last one at attach time. */
    private static final String OFFSET_START = "-1";
    private static final String OFFSET_LATEST = "@latest";
    static final Symbol LAST_ENQUEUED_SEQUENCE_NUMBER = Symbol.valueOf("last_enqueued_sequence_number");
    static final Symbol LAST_ENQUEUED_OFFSET = Symbol.valueOf("last_enqueued_offset");
    static final Symbol LAST_ENQUEUED_TIME = Symbol.valueOf("last_enqueued_time_utc");
    static final Symbol RETRIEVAL_TIME = Symbol.valueOf("runtime_info_retrieval_time_utc");
    /** Stored system properties that travel as message annotations rather than in the properties section. */
    private static final Map<String, String> ANNOTATION_NAMES = Map.of(
            "iothub-connection-device-id", "iothub-connection-device-id",
            "iothub-connection-module-id", "iothub-connection-module-id",
            "iothub-connection-auth-method", "iothub-connection-auth-method",
            "iothub-connection-auth-generation-id", "iothub-connection-auth-generation-id",
            "iothub-message-source", "iothub-message-source",
            "iothub-interface-id", "iothub-interface-id",
            "dt-subject", "dt-subject",
            "dt-dataschema", "dt-dataschema",
            "output-name", "x-opt-output-name");

    private EventHubsMessages() {
    }

    /** The start position a receiver's source asks for; the stream's start when it names none. */
    static StartPosition startPosition(Source source) {
        Map<?, ?> filters = source == null ? null : source.getFilter();
        Object filter = filters == null ? null : filters.get(SELECTOR_FILTER);
        if (filter == null) {
            return StartPosition.earliest();
        }
        Object expression = filter instanceof DescribedType described ? described.getDescribed() : filter;
        Matcher m = expression instanceof String text ? SELECTOR.matcher(text) : null;
        if (m == null || !m.matches()) {
            throw invalidFilter(expression);
        }
        boolean inclusive = m.group(2).equals(">=");
        String value = m.group(3);
        try {
            switch (m.group(1).toLowerCase(java.util.Locale.ROOT)) {
                case "x-opt-offset":
                    if (value.equals(OFFSET_START)) {
                        return StartPosition.earliest();
                    }
                    if (value.equalsIgnoreCase(OFFSET_LATEST)) {
                        return StartPosition.latest();
                    }
                    return new StartPosition.Offset(Long.parseLong(value), inclusive);
                case "x-opt-sequence-number":
                    return new StartPosition.SequenceNumber(Long.parseLong(value), inclusive);
                default:
                    Instant time = value.chars().allMatch(Character::isDigit)
                            ? Instant.ofEpochMilli(Long.parseLong(value)) : Instant.parse(value);
                    return new StartPosition.EnqueuedTime(inclusive ? time : time.plusMillis(1));
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            throw invalidFilter(expression);
        }
    }

    private static HubException invalidFilter(Object expression) {
        return new HubException(HubErrorCode.ArgumentInvalid, "unsupported selector filter '" + expression
                + "': use amqp.annotation.x-opt-offset, x-opt-sequence-number or x-opt-enqueued-time with > or >=");
    }

    /**
     * An event as IoT Hub's built-in endpoint delivers it: the device's system properties in the properties section,
     * the hub's stamps and the event's place in the stream as message annotations, application properties and body
     * as the device sent them.
     */
    static Message toAmqp(StoredEvent event) {
        Map<String, String> system = event.data().systemProperties();
        Message message = Message.Factory.create();
        Properties properties = new Properties();
        properties.setMessageId(system.get("message-id"));
        properties.setCorrelationId(system.get("correlation-id"));
        if (system.containsKey("user-id")) {
            properties.setUserId(new Binary(system.get("user-id").getBytes(StandardCharsets.UTF_8)));
        }
        properties.setTo(system.get("to"));
        if (system.containsKey("content-type")) {
            properties.setContentType(Symbol.valueOf(system.get("content-type")));
        }
        if (system.containsKey("content-encoding")) {
            properties.setContentEncoding(Symbol.valueOf(system.get("content-encoding")));
        }
        properties.setAbsoluteExpiryTime(dateOrNull(system.get("absolute-expiry-time")));
        properties.setCreationTime(dateOrNull(system.get("creation-time")));
        message.setProperties(properties);

        Map<Symbol, Object> annotations = new LinkedHashMap<>();
        system.forEach((name, value) -> {
            String annotation = ANNOTATION_NAMES.get(name);
            if (annotation != null) {
                annotations.put(Symbol.valueOf(annotation), value);
            }
        });
        Date enqueued = new Date(event.enqueuedTimeMillis());
        annotations.put(Symbol.valueOf("iothub-enqueuedtime"), enqueued);
        annotations.put(Symbol.valueOf("x-opt-sequence-number"), event.sequenceNumber());
        annotations.put(Symbol.valueOf("x-opt-offset"), Long.toString(event.offset()));
        annotations.put(Symbol.valueOf("x-opt-enqueued-time"), enqueued);
        message.setMessageAnnotations(new MessageAnnotations(annotations));

        message.setApplicationProperties(new ApplicationProperties(new LinkedHashMap<>(
                event.data().applicationProperties())));
        message.setBody(new Data(new Binary(event.data().body())));
        return message;
    }

    /**
     * The runtime metric a receiver asked for ({@code com.microsoft:enable-receiver-runtime-metric}): the
     * partition's last enqueued event and when that was looked up, as delivery annotations on each event.
     */
    static DeliveryAnnotations lastEnqueued(PartitionInfo partition, long retrievedAtMillis) {
        Map<Symbol, Object> annotations = new LinkedHashMap<>();
        annotations.put(LAST_ENQUEUED_SEQUENCE_NUMBER, partition.lastSequenceNumber());
        annotations.put(LAST_ENQUEUED_OFFSET, Long.toString(partition.lastOffset()));
        annotations.put(LAST_ENQUEUED_TIME, new Date(partition.lastEnqueuedTimeMillis()));
        annotations.put(RETRIEVAL_TIME, new Date(retrievedAtMillis));
        return new DeliveryAnnotations(annotations);
    }

    private static Date dateOrNull(String instant) {
        if (instant == null) {
            return null;
        }
        try {
            return Date.from(Instant.parse(instant));
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
