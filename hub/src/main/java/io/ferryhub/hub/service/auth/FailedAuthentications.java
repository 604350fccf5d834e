package io.ferryhub.hub.service.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * Failed device authentications, counted per device id and per remote address. When one address fails
 * {@code threshold} times within {@code window}, it is blocked for {@code blockFor}: its new connections are closed
 * at accept, before TLS, on every listener (the address gate's {@code BlockedAddressPolicy}). Optionally a device whose
 * credentials fail {@code threshold} times within the window is disabled, with a status reason saying why.
 *
 * <p>Memory is bounded: at most {@code maxTracked} devices, addresses and blocks are remembered each; the least
 * recently failing ones are forgotten first (an attacker cycling through more keys than that gains nothing it could
 * not gain by pausing for the window).
 */
public final class FailedAuthentications {
    private static final Logger log = LoggerFactory.getLogger(FailedAuthentications.class);

    /**
     * @param threshold     failures within the window that block an address (and disable a device, if asked)
     * @param disableDevice whether a device failing {@code threshold} times in the window is disabled; off by
     *                      default, since anyone who knows a device id could otherwise disable it
     */
    public record Settings(int threshold, Duration window, Duration blockFor, int maxTracked, boolean disableDevice) {
        public static final int DEFAULT_MAX_TRACKED = 10_000;

        public Settings {
            if (threshold < 1 || window.isZero() || window.isNegative() || blockFor.isZero() || blockFor.isNegative()
                    || maxTracked < 1) {
                throw new IllegalArgumentException("the failed-authentication threshold, window, block time and "
                        + "tracked count must be positive");
            }
        }

        /** 10 failures within a minute block the address for 5 minutes; devices are not disabled. */
        public static Settings defaults() {
            return new Settings(10, Duration.ofMinutes(1), Duration.ofMinutes(5), DEFAULT_MAX_TRACKED, false);
        }

        public Settings withDisableDevice(boolean disable) {
            return new Settings(threshold, window, blockFor, maxTracked, disable);
        }
    }

    private static final class Window {
        long start;
        int count;
    }

    private final Settings settings;
    private final LongSupplier nanoClock;
    private final Map<String, Window> byDevice;
    private final Map<InetAddress, Window> byAddress;
    private final ConcurrentHashMap<InetAddress, Long> blockedUntil = new ConcurrentHashMap<>();
    private final LongAdder failures = new LongAdder();
    private final LongAdder blocks = new LongAdder();
    private final LongAdder refusedAtAccept = new LongAdder();
    private volatile BiConsumer<String, String> deviceDisabler = (deviceId, reason) -> { };

    public FailedAuthentications(Settings settings) {
        this(settings, System::nanoTime);
    }

    public FailedAuthentications(Settings settings, LongSupplier nanoClock) {
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.byDevice = lru(settings.maxTracked());
        this.byAddress = lru(settings.maxTracked());
    }

    private static <K> Map<K, Window> lru(int max) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Window> eldest) {
                return size() > max;
            }
        };
    }

    public Settings settings() {
        return settings;
    }

    /** What disables a device (with the status reason) once it passes the threshold, if the settings ask so. */
    public void onDeviceOverThreshold(BiConsumer<String, String> disabler) {
        this.deviceDisabler = disabler;
    }

    /**
     * Counts one failed authentication of {@code deviceId} from {@code address} (either may be null when unknown);
     * blocks the address, or disables the device, at the threshold.
     */
    public void failed(String deviceId, InetAddress address) {
        failures.increment();
        long now = nanoClock.getAsLong();
        int addressCount = 0;
        int deviceCount = 0;
        synchronized (this) {
            if (address != null) {
                addressCount = count(byAddress, address, now);
            }
            if (deviceId != null) {
                deviceCount = count(byDevice, deviceId, now);
            }
        }
        log.info("failed device authentication: device {} from {} ({} failures from this address and {} for this "
                + "device within {})", shown(deviceId), address == null ? "?" : address.getHostAddress(),
                addressCount, deviceCount, settings.window());
        if (address != null && addressCount >= settings.threshold() && block(address, now)) {
            log.warn("address {} blocked for {}: {} failed device authentications within {}",
                    address.getHostAddress(), settings.blockFor(), addressCount, settings.window());
        }
        if (deviceId != null && settings.disableDevice() && deviceCount == settings.threshold()) {
            String reason = "Disabled by the hub: " + deviceCount + " failed authentications within "
                    + settings.window().toSeconds() + " s (last from " + (address == null ? "an unknown address"
                    : address.getHostAddress()) + ")";
            log.warn("device {}: {}", shown(deviceId), reason);
            try {
                deviceDisabler.accept(deviceId, reason);
            } catch (RuntimeException e) {
                log.warn("device {} could not be disabled: {}", shown(deviceId), e.getMessage());
            }
        }
    }

    private <K> int count(Map<K, Window> windows, K key, long now) {
        Window w = windows.computeIfAbsent(key, k -> new Window());
        if (w.count == 0 || now - w.start > settings.window().toNanos()) {
            w.start = now;
            w.count = 0;
        }
        return ++w.count;
    }

    private boolean block(InetAddress address, long now) {
        if (blockedUntil.size() >= settings.maxTracked()) {
            blockedUntil.values().removeIf(until -> until - now <= 0);
            Iterator<InetAddress> any = blockedUntil.keySet().iterator();
            while (blockedUntil.size() >= settings.maxTracked() && any.hasNext()) {
                any.next();
                any.remove();
            }
        }
        Long before = blockedUntil.put(address, now + settings.blockFor().toNanos());
        synchronized (this) {
            // its failures start again from zero once the block ends
            byAddress.remove(address);
        }
        if (before == null || before - now <= 0) {
            blocks.increment();
            return true;
        }
        return false;
    }

    /** Whether connections from the address are refused now. Cheap: one map read; runs on event loops at accept. */
    public boolean isBlocked(InetAddress address) {
        if (address == null || blockedUntil.isEmpty()) {
            return false;
        }
        Long until = blockedUntil.get(address);
        if (until == null) {
            return false;
        }
        if (until - nanoClock.getAsLong() > 0) {
            return true;
        }
        blockedUntil.remove(address, until);
        return false;
    }

    /** A connection from a blocked address was closed at accept (for metrics). */
    public void refusedAtAccept() {
        refusedAtAccept.increment();
    }

    public long failureCount() {
        return failures.sum();
    }

    public long blockCount() {
        return blocks.sum();
    }

    public long refusedAtAcceptCount() {
        return refusedAtAccept.sum();
    }

    /** Addresses blocked right now. */
    public int blockedNow() {
        long now = nanoClock.getAsLong();
        return (int) blockedUntil.values().stream().filter(until -> until - now > 0).count();
    }

    /** Device ids, addresses: how many each map tracks (for tests of the bound). */
    int trackedDevices() {
        synchronized (this) {
            return byDevice.size();
        }
    }

    int trackedAddresses() {
        synchronized (this) {
            return byAddress.size();
        }
    }

    /** A device id for a log line: printable characters only, abbreviated (the id is the caller's input). */
    private static String shown(String deviceId) {
        if (deviceId == null) {
            return "?";
        }
        String shown = deviceId.length() > 64 ? deviceId.substring(0, 64) + "..." : deviceId;
        return shown.replaceAll("[^\\x21-\\x7e]", "?");
    }
}
