package io.ferryhub.signaling;

/**
 * The device side of stream signaling, implemented by each device transport (MQTT, AMQP): it delivers
 * a stream request to one connected device that has subscribed to stream requests. The device's accept or reject
 * comes back through {@code StreamNegotiator#onDeviceResponse}.
 */
public interface StreamRequestSink {
    /** Sends the request to the device; must not block (it is called from request-handling threads). */
    void deliver(StreamRequest request);
}
