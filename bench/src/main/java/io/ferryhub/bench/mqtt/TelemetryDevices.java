package io.ferryhub.bench.mqtt;

/** Naming of the simulated devices and their IoT Hub telemetry topics. */
final class TelemetryDevices {
    static final String ALL_TELEMETRY = "devices/+/messages/events/#";

    private TelemetryDevices() {
    }

    static String deviceId(int index) {
        return String.format("bench-device-%06d", index);
    }

    static String telemetryTopic(String deviceId) {
        return "devices/" + deviceId + "/messages/events/";
    }

    static String userName(String host, String deviceId) {
        return host + "/" + deviceId + "/?api-version=2021-04-12";
    }
}
