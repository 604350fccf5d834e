package io.ferryhub.client.mqtt;

import io.ferryhub.client.net.HttpConnectProxy;
import io.netty.handler.ssl.SslContext;

import java.net.URI;
import java.time.Duration;

/**
 * Where a device connects: the host from its connection string, the hub's MQTT port (8883 unless the hub listens
 * elsewhere) and HTTPS port (443, for MQTT over WebSockets), which of them to use, the TLS context that trusts the
 * hub's CA, and the HTTP proxy its connections must go through (null: direct).
 *
 * @param autoFallbackAfter with {@link MqttTransport#AUTO}: how long an attempt on the MQTT port may take to reach
 *                          it (connect, or the proxy's answer) before the HTTPS port is tried instead, so a firewall
 *                          that silently drops packets costs this rather than the full connect timeout
 */
public record HubEndpoint(String host, int mqttPort, int httpsPort, MqttTransport transport, SslContext tls,
                          HttpConnectProxy proxy, Duration autoFallbackAfter) {
    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_HTTPS_PORT = 443;
    /** Long enough for a TCP connect whose first two SYNs were lost (retried after 1 s, then 2 s more). */
    public static final Duration DEFAULT_AUTO_FALLBACK_AFTER = Duration.ofSeconds(3);
    /** IoT Hub's path for MQTT over WebSockets. */
    public static final String WEBSOCKET_PATH = "/$iothub/websocket";

    public HubEndpoint {
        if (autoFallbackAfter.isNegative() || autoFallbackAfter.isZero()) {
            throw new IllegalArgumentException("the auto transport's fallback delay must be positive");
        }
    }

    public HubEndpoint(String host, int mqttPort, int httpsPort, MqttTransport transport, SslContext tls,
                       HttpConnectProxy proxy) {
        this(host, mqttPort, httpsPort, transport, tls, proxy, DEFAULT_AUTO_FALLBACK_AFTER);
    }

    /** MQTT over TLS on {@code mqttPort}. */
    public HubEndpoint(String host, int mqttPort, SslContext tls) {
        this(host, mqttPort, tls, null);
    }

    /** MQTT over TLS on {@code mqttPort}, through {@code proxy}. */
    public HubEndpoint(String host, int mqttPort, SslContext tls, HttpConnectProxy proxy) {
        this(host, mqttPort, DEFAULT_HTTPS_PORT, MqttTransport.MQTT, tls, proxy);
    }

    public HubEndpoint withTransport(MqttTransport transport, int httpsPort) {
        return new HubEndpoint(host, mqttPort, httpsPort, transport, tls, proxy, autoFallbackAfter);
    }

    URI webSocketUri() {
        return URI.create("wss://" + host + ":" + httpsPort + WEBSOCKET_PATH);
    }

    int port(MqttTransport concrete) {
        return concrete == MqttTransport.MQTT_WS ? httpsPort : mqttPort;
    }
}
