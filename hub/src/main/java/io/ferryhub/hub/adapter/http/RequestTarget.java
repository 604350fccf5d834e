package io.ferryhub.hub.adapter.http;

/**
 * HTTP request targets. Clients may send the absolute form ({@code GET https://host/$iothub/websocket HTTP/1.1}:
 * the Java SDK's AMQP over WebSockets does); the hub routes on the path and query only.
 */
public final class RequestTarget {
    private RequestTarget() {
    }

    /** {@code /path?query} of an origin-form or absolute-form target. */
    public static String pathAndQuery(String uri) {
        int scheme = uri.indexOf("://");
        if (scheme < 0 || uri.startsWith("/")) {
            return uri;
        }
        int slash = uri.indexOf('/', scheme + 3);
        int query = uri.indexOf('?', scheme + 3);
        if (slash < 0 || (query >= 0 && query < slash)) {
            return query < 0 ? "/" : "/" + uri.substring(query);
        }
        return uri.substring(slash);
    }

    /** The path alone, without the query. */
    public static String path(String uri) {
        String pathAndQuery = pathAndQuery(uri);
        int query = pathAndQuery.indexOf('?');
        return query < 0 ? pathAndQuery : pathAndQuery.substring(0, query);
    }
}
