package io.ferryhub.client.mqtt;

import io.netty.handler.ssl.SslContext;

/**
 * Where a device connects: the host from its connection string, a port (8883 unless the hub listens elsewhere)
 * and the TLS context that trusts the hub's CA.
 */
public record HubEndpoint(String host, int port, SslContext tls) {
    public static final int DEFAULT_MQTT_PORT = 8883;
}
