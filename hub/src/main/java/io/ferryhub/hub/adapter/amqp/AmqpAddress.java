package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.sas.PercentEncoding;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The node a link attaches to, as IoT Hub names them. Literal segments are case-insensitive (the SDKs write both
 * {@code deviceBound} and {@code devicebound}).
 *
 * @param deviceId null for service nodes
 */
record AmqpAddress(Kind kind, String deviceId, String moduleId) {
    enum Kind { CBS, TELEMETRY, DEVICE_C2D, SERVICE_C2D, FEEDBACK, TWIN, METHODS, STREAMS }

    private static final Pattern DEVICE_NODE = Pattern.compile(
            "/?devices/([^/]+)(?:/modules/([^/]+))?/messages/(events|devicebound)/?", Pattern.CASE_INSENSITIVE);
    /** Request/response nodes a device opens a link pair on, one link each way. */
    private static final Pattern DEVICE_CHANNEL = Pattern.compile(
            "/?devices/([^/]+)(?:/modules/([^/]+))?/(twin|methods/devicebound|streams)/?", Pattern.CASE_INSENSITIVE);
    /** The scope a CBS audience names below the host: a device or one of its modules. */
    private static final Pattern DEVICE_SCOPE = Pattern.compile("/?devices/([^/]+)(?:/modules/([^/]+))?/?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern SERVICE_C2D = Pattern.compile("/?messages/devicebound/?", Pattern.CASE_INSENSITIVE);
    private static final Pattern FEEDBACK = Pattern.compile("/?messages/servicebound/feedback/?",
            Pattern.CASE_INSENSITIVE);

    /** The node, or null for an address the hub does not serve. */
    static AmqpAddress parse(String address) {
        if (address == null) {
            return null;
        }
        if (address.equals("$cbs")) {
            return new AmqpAddress(Kind.CBS, null, null);
        }
        String path = withoutHost(address);
        Matcher m = DEVICE_NODE.matcher(path);
        if (m.matches()) {
            Kind kind = m.group(3).equalsIgnoreCase("events") ? Kind.TELEMETRY : Kind.DEVICE_C2D;
            return new AmqpAddress(kind, decode(m.group(1)), m.group(2) == null ? null : decode(m.group(2)));
        }
        m = DEVICE_CHANNEL.matcher(path);
        if (m.matches()) {
            String node = m.group(3).toLowerCase(java.util.Locale.ROOT);
            Kind kind = node.equals("twin") ? Kind.TWIN : node.equals("streams") ? Kind.STREAMS : Kind.METHODS;
            return new AmqpAddress(kind, decode(m.group(1)), m.group(2) == null ? null : decode(m.group(2)));
        }
        if (SERVICE_C2D.matcher(path).matches()) {
            return new AmqpAddress(Kind.SERVICE_C2D, null, null);
        }
        if (FEEDBACK.matcher(path).matches()) {
            return new AmqpAddress(Kind.FEEDBACK, null, null);
        }
        return null;
    }

    /** {@code amqps://host/path} as some clients write addresses and CBS audiences, to {@code /path}. */
    static String withoutHost(String address) {
        int scheme = address.indexOf("://");
        if (scheme < 0) {
            return address;
        }
        int slash = address.indexOf('/', scheme + 3);
        return slash < 0 ? "/" : address.substring(slash);
    }

    /**
     * A CBS audience ({@code host}, {@code host/devices/d1[/modules/m1]}, with or without a scheme) as the path below
     * the host, decoded once as the {@code sr} of a SAS token is: the Node SDKs send their token's {@code sr} as the
     * audience, percent-encoded whole ({@code host%2Fdevices%2Fd1}); the Java SDKs send it as it is.
     */
    static String audiencePath(String audience) {
        String decoded;
        try {
            decoded = PercentEncoding.decode(audience);
        } catch (IllegalArgumentException e) {
            decoded = audience;
        }
        return withoutHost(decoded.contains("://") ? decoded : "amqps://" + decoded);
    }

    /**
     * The device or module an {@link #audiencePath audience path} names, as a {@link Kind#TELEMETRY} node, or null
     * when it names no device (a hub-scoped, service audience). Its segments are not decoded again.
     */
    static AmqpAddress ofAudiencePath(String path) {
        Matcher m = DEVICE_SCOPE.matcher(path);
        return m.matches() ? new AmqpAddress(Kind.TELEMETRY, m.group(1), m.group(2)) : null;
    }

    private static String decode(String segment) {
        try {
            return java.net.URLDecoder.decode(segment.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return segment;
        }
    }
}
