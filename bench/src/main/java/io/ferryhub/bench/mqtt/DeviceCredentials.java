package io.ferryhub.bench.mqtt;

/**
 * What one simulated device sends in CONNECT and where it publishes telemetry.
 *
 * @param password null for none
 */
public record DeviceCredentials(String clientId, String userName, String password, String telemetryTopic) {
}
