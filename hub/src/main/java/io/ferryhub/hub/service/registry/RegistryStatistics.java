package io.ferryhub.hub.service.registry;

/** {@code GET /statistics/devices}. */
public record RegistryStatistics(long totalDeviceCount, long enabledDeviceCount, long disabledDeviceCount) {
}
