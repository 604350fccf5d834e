package io.ferryhub.hub.adapter.mqtt;

/** The Will a device left in its CONNECT: published as telemetry if the connection ends without DISCONNECT. */
record WillMessage(String topic, byte[] payload) {
}
