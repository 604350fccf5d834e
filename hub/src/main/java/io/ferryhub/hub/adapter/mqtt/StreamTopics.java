package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.sas.PercentEncoding;
import io.ferryhub.signaling.StreamRequest;

import java.util.Optional;

/**
 * IoT Hub's MQTT topics for device streams.
 *
 * <p>Request (hub to device, QoS 0, empty payload), exactly five topic levels:
 * {@code $iothub/streams/POST/{name}/?$rid={rid}&$url={percent-encoded url}&$auth={token}&$ip={ip}}. The C# SDK
 * refuses any other level count, so the URL is percent-encoded (it then holds no {@code /}) and stream names with a
 * {@code /} cannot be requested. {@code $auth} is not decoded by the SDKs, so tokens must be URL-safe.
 *
 * <p>Response (device to hub): {@code $iothub/streams/res/{200|400}/?$rid={rid}}, empty payload.
 */
public final class StreamTopics {
    public static final String REQUEST_FILTER = "$iothub/streams/POST/#";
    public static final String RESPONSE_FILTER = "$iothub/streams/res/#";
    public static final String REQUEST_PREFIX = "$iothub/streams/POST/";
    public static final String RESPONSE_PREFIX = "$iothub/streams/res/";

    /** A device's answer to a stream request. */
    public record Response(int status, String requestId) {
        public boolean accepted() {
            return status == 200;
        }
    }

    private StreamTopics() {
    }

    public static String requestTopic(StreamRequest request, String clientIp) {
        if (request.streamName().indexOf('/') >= 0) {
            throw new IllegalArgumentException("stream names cannot contain '/'");
        }
        return REQUEST_PREFIX + request.streamName() + "/?$rid=" + PercentEncoding.encode(request.requestId())
                + "&$url=" + PercentEncoding.encode(request.url())
                + "&$auth=" + request.authToken()
                + "&$ip=" + (clientIp == null ? "0.0.0.0" : clientIp);
    }

    /** Parses {@code $iothub/streams/res/{status}/?$rid={rid}}; empty if the topic is not of that form. */
    public static Optional<Response> parseResponse(String topic) {
        if (!topic.startsWith(RESPONSE_PREFIX)) {
            return Optional.empty();
        }
        String rest = topic.substring(RESPONSE_PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return Optional.empty();
        }
        int status;
        try {
            status = Integer.parseInt(rest.substring(0, slash));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        String query = rest.substring(slash + 1);
        if (query.startsWith("?")) {
            query = query.substring(1);
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith("$rid=") || pair.startsWith("%24rid=")) {
                String rid = PercentEncoding.decode(pair.substring(pair.indexOf('=') + 1));
                return rid.isEmpty() ? Optional.empty() : Optional.of(new Response(status, rid));
            }
        }
        return Optional.empty();
    }
}
