package io.ferryhub.client.mqtt;

import io.ferryhub.common.sas.PercentEncoding;

import java.util.Optional;

/**
 * A stream request the hub sent to this device:
 * {@code $iothub/streams/POST/{name}/?$rid={rid}&$url={percent-encoded wss url}&$auth={token}&$ip={ip}}.
 */
public record IncomingStreamRequest(String streamName, String requestId, String url, String authToken) {
    static final String PREFIX = "$iothub/streams/POST/";

    /** Parses a request topic; empty when it is not one or lacks {@code $rid}, {@code $url} or {@code $auth}. */
    public static Optional<IncomingStreamRequest> parse(String topic) {
        if (!topic.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String rest = topic.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return Optional.empty();
        }
        String name = rest.substring(0, slash);
        String query = rest.substring(slash + 1);
        if (query.startsWith("?")) {
            query = query.substring(1);
        }
        String rid = null;
        String url = null;
        String auth = null;
        try {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String key = PercentEncoding.decode(pair.substring(0, eq));
                String value = pair.substring(eq + 1);
                switch (key) {
                    case "$rid" -> rid = PercentEncoding.decode(value);
                    case "$url" -> url = PercentEncoding.decode(value);
                    // Not decoded, as the SDKs do: the hub sends it URL-safe.
                    case "$auth" -> auth = value;
                    default -> {
                    }
                }
            }
        } catch (IllegalArgumentException badEscape) {
            return Optional.empty();
        }
        if (rid == null || url == null || auth == null || rid.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new IncomingStreamRequest(name, rid, url, auth));
    }

    /** The topic that answers this request: 200 accepts, 400 rejects. */
    public String responseTopic(boolean accept) {
        return "$iothub/streams/res/" + (accept ? 200 : 400) + "/?$rid=" + PercentEncoding.encode(requestId);
    }

    @Override
    public String toString() {
        return "stream request " + requestId + " '" + streamName + "'";
    }
}
