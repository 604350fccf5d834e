package io.ferryhub.hub.adapter.mqtt;

/**
 * Limits of the MQTT device endpoint.
 *
 * @param maxPacketBytes       the largest MQTT packet accepted; bigger ones close the connection. It must leave room
 *                             for a 256 KB telemetry message plus its topic, whose exact size rule the telemetry
 *                             service applies
 * @param maxPendingAcks        device PUBLISHes being handled at once per connection; beyond this the connection
 *                              stops reading until they complete (back-pressure instead of unbounded memory)
 * @param maxSubscriptions      topic filters one session holds at once; a SUBSCRIBE beyond it is refused (0x80).
 *                              IoT Hub serves at most seven filters per identity, so only a misbehaving client or a
 *                              handler serving open-ended filters reaches it; it bounds what a persistent session
 *                              stores
 */
public record MqttSettings(int maxPacketBytes, int maxPendingAcks, int maxSubscriptions) {
    /** 256 KB message + up to 64 KB of topic and property bag + the fixed and variable headers. */
    public static final MqttSettings DEFAULTS = new MqttSettings(256 * 1024 + 65 * 1024, 1024, 16);

    public MqttSettings {
        if (maxPacketBytes <= 0 || maxPendingAcks <= 0 || maxSubscriptions <= 0) {
            throw new IllegalArgumentException("MQTT limits must be positive");
        }
    }
}
