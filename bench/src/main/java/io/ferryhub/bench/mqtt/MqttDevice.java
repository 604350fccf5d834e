package io.ferryhub.bench.mqtt;

import io.netty.channel.Channel;

/** A connected simulated device. */
public record MqttDevice(Channel channel, MqttDeviceHandler handler) {
    public void startPublishing(TelemetryStats stats, int payloadBytes, int window) {
        handler.startPublishing(stats, payloadBytes, window);
    }

    /** Answers every direct method at once with status 200 and the request's payload. */
    public void answerMethods() {
        handler.answerMethods();
    }

    public void stopPublishing() {
        handler.stopPublishing();
    }
}
