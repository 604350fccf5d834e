package io.ferryhub.client.mqtt;

import io.ferryhub.client.net.HttpConnectProxy;
import io.netty.handler.ssl.SslContext;

import java.net.URI;

/**
 * Where a device connects: the host from its connection string, the hub's MQTT port (8883 unless the hub listens
 * elsewhere) and HTTPS port (443, for MQTT over WebSockets), which of them to use, the TLS context that trusts the
 * hub's CA, and the HTTP proxy its connections must go through (null: direct).
 */
public record HubEndpoint(String host, int mqttPort, int httpsPort, MqttTransport transport, SslContext tls,
                          HttpConnectProxy proxy) {
    public static final int DEFAULT_MQTT_PORT = 8883;
    public static final int DEFAULT_HTTPS_PORT = 443;
    /** IoT Hub's path for MQTT over WebSockets. */
    public static final String WEBSOCKET_PATH = "/$iothub/websocket";

    /** MQTT over TLS on {@code mqttPort}. */
    public HubEndpoint(String host, int mqttPort, SslContext tls) {
        this(host, mqttPort, tls, null);
    }

    /** MQTT over TLS on {@code mqttPort}, through {@code proxy}. */
    public HubEndpoint(String host, int mqttPort, SslContext tls, HttpConnectProxy proxy) {
        this(host, mqttPort, DEFAULT_HTTPS_PORT, MqttTransport.MQTT, tls, proxy);
    }

    public HubEndpoint withTransport(MqttTransport transport, int httpsPort) {
        return new HubEndpoint(host, mqttPort, httpsPort, transport, tls, proxy);
    }

    URI webSocketUri() {
        return URI.create("wss://" + host + ":" + httpsPort + WEBSOCKET_PATH);
    }

    int port(MqttTransport concrete) {
        return concrete == MqttTransport.MQTT_WS ? httpsPort : mqttPort;
    }
}
