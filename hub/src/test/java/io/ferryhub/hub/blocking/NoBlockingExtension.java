package io.ferryhub.hub.blocking;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockHound;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fails every hub test during which a Netty event loop or the hub's shared timer made a blocking call (see
 * {@link HubBlockHoundIntegration} for which threads and which calls). JUnit registers it for every test class of
 * the module ({@code junit-platform.properties} turns on extension auto-detection, {@code META-INF/services} names
 * it); BlockHound is installed once per test JVM.
 *
 * <p>A blocking call is recorded, not thrown into the blocking thread: the hub goes on as it would in production,
 * and the test fails when it ends, with the stack of the call. A call made outside any test (a hub started in
 * {@code @BeforeAll}) fails the class. Waits to enter {@code synchronized} code, which BlockHound does not see, are
 * checked per test by {@link MonitorWaits}.
 */
public final class NoBlockingExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        AfterAllCallback {
    /** Stacks kept per test; the rest are only counted. */
    private static final int KEPT = 10;
    private static final AtomicBoolean installed = new AtomicBoolean();
    private static final List<Throwable> calls = new ArrayList<>();
    private static final AtomicInteger count = new AtomicInteger();

    /** Installs BlockHound with the hub's rules; later calls do nothing. */
    public static void install() {
        if (installed.compareAndSet(false, true)) {
            BlockHound.install(new HubBlockHoundIntegration(NoBlockingExtension::record));
            MonitorWaits.enable();
        }
    }

    static void record(String method) {
        count.incrementAndGet();
        Throwable call = new Throwable("blocking call " + method + " on " + Thread.currentThread().getName());
        synchronized (calls) {
            if (calls.size() < KEPT) {
                calls.add(call);
            }
        }
    }

    /** Throws (and forgets them) when blocking calls were recorded since the last check. */
    public static void checkAndClear() {
        List<Throwable> recorded;
        synchronized (calls) {
            recorded = new ArrayList<>(calls);
            calls.clear();
        }
        int n = count.getAndSet(0);
        if (n == 0) {
            return;
        }
        StringBuilder message = new StringBuilder().append(n)
                .append(" blocking call(s) on an event loop or the hub's timer, which must never wait:");
        recorded.forEach(call -> message.append("\n  ").append(call.getMessage()));
        AssertionError failure = new AssertionError(message.toString(), recorded.get(0));
        recorded.stream().skip(1).forEach(failure::addSuppressed);
        throw failure;
    }

    /** Throws when an event loop or the hub's timer waited too long for a monitor since the test started. */
    private static void checkMonitorWaits() {
        List<String> waits = MonitorWaits.check();
        if (!waits.isEmpty()) {
            throw new AssertionError("an event loop or the hub's timer waited for a lock:\n  "
                    + String.join("\n  ", waits));
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
        checkAndClear(); // what an earlier class's hub did while closing is not this class's doing
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        MonitorWaits.start();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        checkAndClear();
        checkMonitorWaits();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        checkAndClear();
    }
}
