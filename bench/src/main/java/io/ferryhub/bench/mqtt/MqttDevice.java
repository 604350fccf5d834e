package io.ferryhub.bench.mqtt;

import io.netty.channel.Channel;

/** A connected simulated device. */
public record MqttDevice(Channel channel, MqttDeviceHandler handler) {
    public void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
        handler.startPublishing(stats, payloadBytes, window);
    }

    public void stopPublishing() {
        handler.stopPublishing();
    }
}
