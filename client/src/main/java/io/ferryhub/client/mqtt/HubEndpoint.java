package io.ferryhub.client.mqtt;

import io.ferryhub.client.net.HttpConnectProxy;
import io.netty.handler.ssl.SslContext;

/**
 * Where a device connects: the host from its connection string, a port (8883 unless the hub listens elsewhere),
 * the TLS context that trusts the hub's CA, and the HTTP proxy its connections must go through (null: direct).
 */
public record HubEndpoint(String host, int port, SslContext tls, HttpConnectProxy proxy) {
    public static final int DEFAULT_MQTT_PORT = 8883;

    public HubEndpoint(String host, int port, SslContext tls) {
        this(host, port, tls, null);
    }
}
