package io.ferryhub.cli;

import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.TrafficLimits;
import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.ferryhub.hub.service.throttling.DailyMessageQuota;
import io.ferryhub.hub.service.throttling.ThrottleSettings;

import java.time.Duration;
import java.util.Set;

/**
 * {@code iothub start}'s options for throttling, the daily quota and the failed-authentication lock-out. Defaults:
 * IoT Hub S1 with one unit; a bad or zero rate is refused before the hub starts.
 */
final class TrafficLimitOptions {
    static final String USAGE = """
                         [--units N]   (IoT Hub S1 units the throttles and daily quota are sized for; 1)
                         [--throttle NAME=RATE,...]   (override S1's rates: connect, d2c, c2d, twin-read, twin-update,
                                        methods, registry, query, streams; RATE e.g. 100/s, 100/min, 160KB/s)
                         [--throttling off]   (no throttles and, unless --daily-messages is given, no daily quota)
                         [--daily-messages N]   (D2C and C2D messages a UTC day, 4 KB each; 400000 per unit;
                                        0 = no quota)
                         [--lockout-failures N] [--lockout-window SECONDS] [--lockout-time SECONDS]
                                        (an address failing N device authentications within the window is
                                        refused at accept for the lock-out time; 10, 60, 300)
                         [--lockout off]   (never block addresses)
                         [--disable-device-on-failed-auth]   (also disable a device failing N times in the window)
            """.stripTrailing();
    static final Set<String> VALUED = Set.of("units", "throttle", "throttling", "daily-messages", "lockout-failures",
            "lockout-window", "lockout-time", "lockout");
    static final Set<String> SWITCHES = Set.of("disable-device-on-failed-auth");

    private TrafficLimitOptions() {
    }

    /** @throws CliException (usage) with what to write instead */
    static TrafficLimits parse(Args args) {
        try {
            int units = args.intOption("units", 1);
            TrafficLimits limits = TrafficLimits.s1(units);
            String throttling = args.option("throttling");
            if (throttling != null && !throttling.equals("on") && !throttling.equals("off")) {
                throw CliException.usage("--throttling is on or off, not '" + throttling + "'");
            }
            if ("off".equals(throttling)) {
                if (args.option("throttle") != null) {
                    throw CliException.usage("--throttle and --throttling off contradict each other: give one");
                }
                limits = limits.withThrottling(ThrottleSettings.off());
            } else if (args.option("throttle") != null) {
                limits = limits.withThrottling(limits.throttling().withSpec(String.join(",",
                        args.options("throttle"))));
            }
            long s1Daily = "off".equals(throttling) ? 0 : DailyMessageQuota.S1_MESSAGES_PER_UNIT * units;
            long daily = args.option("daily-messages") == null ? s1Daily : parseCount(args.option("daily-messages"));
            limits = limits.withDailyMessages(daily);
            String lockout = args.option("lockout");
            if (lockout != null && !lockout.equals("on") && !lockout.equals("off")) {
                throw CliException.usage("--lockout is on or off, not '" + lockout + "'");
            }
            if ("off".equals(lockout)) {
                return limits.withLockout(null);
            }
            FailedAuthentications.Settings defaults = FailedAuthentications.Settings.defaults();
            return limits.withLockout(new FailedAuthentications.Settings(
                    args.intOption("lockout-failures", defaults.threshold()),
                    Duration.ofSeconds(args.intOption("lockout-window", (int) defaults.window().toSeconds())),
                    Duration.ofSeconds(args.intOption("lockout-time", (int) defaults.blockFor().toSeconds())),
                    defaults.maxTracked(), args.flag("disable-device-on-failed-auth")));
        } catch (IllegalArgumentException e) {
            throw CliException.usage(e.getMessage());
        }
    }

    private static long parseCount(String value) {
        try {
            long n = Long.parseLong(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below says what is expected
        }
        throw CliException.usage("--daily-messages must be a whole number of messages (0 = no quota), not '"
                + value + "'");
    }

    /** One line for the start banner: what the hub throttles, its quota and its lock-out. */
    static String describe(HubServer hub) {
        ThrottleSettings throttling = hub.throttles().settings();
        String throttles = !throttling.enabled() ? "no throttles"
                : throttling.overrides().isEmpty() ? "IoT Hub S1 throttles for " + throttling.units() + " unit(s)"
                : "throttles " + throttling;
        long quota = hub.dailyQuota().limit();
        FailedAuthentications failures = hub.failedAuthentications();
        String lockout = failures == null ? "no lock-out"
                : "addresses blocked " + failures.settings().blockFor().toSeconds() + " s after "
                + failures.settings().threshold() + " failed device authentications in "
                + failures.settings().window().toSeconds() + " s";
        return throttles + ", " + (quota > 0 ? quota + " messages a day" : "no daily quota") + ", " + lockout
                + "   (docs/throttling.md)";
    }
}
