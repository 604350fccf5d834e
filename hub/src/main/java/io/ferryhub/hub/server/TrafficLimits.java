package io.ferryhub.hub.server;

import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.ferryhub.hub.service.throttling.DailyMessageQuota;
import io.ferryhub.hub.service.throttling.ThrottleSettings;

/**
 * The limits a hub puts on traffic: IoT Hub's operation throttles, its daily message quota, and the lock-out of
 * addresses that keep failing device authentication.
 *
 * @param throttling    the operation throttles
 * @param dailyMessages device-to-cloud and cloud-to-device messages a UTC day (4 KB each); 0 for no quota
 * @param lockout       when addresses are blocked for failed device authentications, or null for never
 */
public record TrafficLimits(ThrottleSettings throttling, long dailyMessages, FailedAuthentications.Settings lockout) {
    public TrafficLimits {
        if (throttling == null || dailyMessages < 0) {
            throw new IllegalArgumentException("throttle settings are required and the daily quota cannot be "
                    + "negative");
        }
    }

    /** IoT Hub S1 with {@code units} units, and the default lock-out: what {@code iothub start} runs with. */
    public static TrafficLimits s1(int units) {
        return new TrafficLimits(ThrottleSettings.s1().withUnits(units),
                DailyMessageQuota.S1_MESSAGES_PER_UNIT * units, FailedAuthentications.Settings.defaults());
    }

    /** No throttle, no quota, no lock-out: a hub embedded in tests and benchmarks unless they ask for limits. */
    public static TrafficLimits none() {
        return new TrafficLimits(ThrottleSettings.off(), 0, null);
    }

    public TrafficLimits withThrottling(ThrottleSettings settings) {
        return new TrafficLimits(settings, dailyMessages, lockout);
    }

    public TrafficLimits withDailyMessages(long messages) {
        return new TrafficLimits(throttling, messages, lockout);
    }

    public TrafficLimits withLockout(FailedAuthentications.Settings settings) {
        return new TrafficLimits(throttling, dailyMessages, settings);
    }
}
