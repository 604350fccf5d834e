package io.ferryhub.hub.adapter.mqtt;

/**
 * Limits of the MQTT device endpoint.
 *
 * @param maxPacketBytes       the largest MQTT packet accepted; bigger ones close the connection. It must leave room
 *                             for a 256 KB telemetry message plus its topic, whose exact size rule the telemetry
 *                             service applies
 * @param maxPendingAcks        device PUBLISHes being handled at once per connection; beyond this the connection
 *                              stops reading until they complete (back-pressure instead of unbounded memory)
 */
public record MqttSettings(int maxPacketBytes, int maxPendingAcks) {
    /** 256 KB message + up to 64 KB of topic and property bag + the fixed and variable headers. */
    public static final MqttSettings DEFAULTS = new MqttSettings(256 * 1024 + 65 * 1024, 1024);

    public MqttSettings {
        if (maxPacketBytes <= 0 || maxPendingAcks <= 0) {
            throw new IllegalArgumentException("MQTT limits must be positive");
        }
    }
}
