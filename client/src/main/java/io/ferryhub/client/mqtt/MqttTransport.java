package io.ferryhub.client.mqtt;

/**
 * How a device's MQTT connection reaches the hub, with the names IoT Hub's SDKs give the same choices: MQTT over
 * TLS on the MQTT port, or MQTT inside a WebSocket on the HTTPS port for networks that only let 443 out.
 */
public enum MqttTransport {
    /** MQTT over TLS on the hub's MQTT port (8883). */
    MQTT,
    /** MQTT in WebSocket binary frames at {@code wss://HOST:443/$iothub/websocket}, sub-protocol {@code mqtt}. */
    MQTT_WS,
    /**
     * MQTT first; whenever a connection cannot be made (refused, timed out, or refused by an HTTP proxy), the next
     * attempt uses the other transport. An attempt on the MQTT port gives up early ({@link
     * HubEndpoint#autoFallbackAfter()}) when the port is not reached, as behind a firewall that drops its packets.
     * The transport that worked is kept for reconnects; after a fall back to WebSockets, the MQTT port is tried again
     * on a reconnect now and then. A connection that was made but refused by the hub does not switch.
     */
    AUTO;

    /** The command-line spelling: {@code mqtt}, {@code mqtt-ws} or {@code auto}. */
    public static MqttTransport parse(String text) {
        return switch (text.toLowerCase(java.util.Locale.ROOT)) {
            case "mqtt" -> MQTT;
            case "mqtt-ws", "mqtt_ws", "websocket" -> MQTT_WS;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("--transport wants mqtt, mqtt-ws or auto, got '" + text
                    + "'");
        };
    }
}
