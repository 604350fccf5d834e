package io.ferryhub.hub.blocking;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What BlockHound cannot see: an event loop or the hub's timer waiting to enter {@code synchronized} code that
 * another thread holds across blocking work (a consumer group change held its lock through an fsync while Event
 * Hubs attaches waited for it on event loops). The JVM counts how long each thread was blocked on monitors; a
 * sampler adds up what the watched threads accumulate (threads that end during a test included, but for their last
 * sampling period) and notes where, on which lock and behind which thread, it finds one blocked. More than
 * {@link #MAX_MILLIS} in one test fails it: brief contention (a logging lock, a map bin) stays far below that even
 * on a loaded machine, a lock held through storage work does not.
 *
 * <p>Allowed, as Netty's BlockHound integration allows the JDK's TLS engine: waits inside the JDK's TLS engine and
 * security providers. A handshake draws from the JDK's shared SecureRandom, whose lock any thread making random
 * bytes holds while it reads /dev/urandom; on a loaded machine that takes hundreds of milliseconds now and then.
 */
final class MonitorWaits {
    static final long MAX_MILLIS = 1000;
    /**
     * The JDK's TLS engine and security providers. Not Netty's SslHandler: every byte a TLS connection reads passes
     * through it on its way to the hub's handlers.
     */
    private static final String ALLOWED = "sun.security.";
    private static final int STACK_DEPTH = 40;
    private static final long SAMPLE_MILLIS = 20;
    private static final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    /** The blocked time each watched thread had at the last sample, by thread id. */
    private static final Map<Long, Long> lastSeen = new HashMap<>();
    /** Blocked milliseconds since the test started, by thread name. */
    private static final Map<String, Long> waited = new HashMap<>();
    /** What each thread was last seen waiting for, by thread name. */
    private static final Map<String, String> waitingFor = new HashMap<>();

    private MonitorWaits() {
    }

    /** Starts sampling, once per JVM. */
    static void enable() {
        if (!threads.isThreadContentionMonitoringSupported()) {
            return;
        }
        threads.setThreadContentionMonitoringEnabled(true);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blocking-guard-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(MonitorWaits::sample, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Threads that must never wait: Netty's event loops (as Netty's BlockHound integration says) and hub-timer. */
    static boolean mustNotBlock(Thread thread) {
        return thread instanceof FastThreadLocalThread fast && !fast.permitBlockingCalls()
                || thread.getName().startsWith(HubBlockHoundIntegration.TIMER_PREFIX);
    }

    private static synchronized void sample() {
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (!mustNotBlock(thread)) {
                continue;
            }
            ThreadInfo info = threads.getThreadInfo(thread.getId(), STACK_DEPTH);
            if (info == null || info.getBlockedTime() < 0) {
                continue;
            }
            Long before = lastSeen.put(thread.getId(), info.getBlockedTime());
            long delta = info.getBlockedTime() - (before == null ? 0 : before);
            boolean blocked = info.getThreadState() == Thread.State.BLOCKED;
            if (blocked && allowed(info.getStackTrace())) {
                continue; // the time since the last sample is taken as this allowed wait's
            }
            if (delta > 0) {
                waited.merge(thread.getName(), delta, Long::sum);
            }
            if (blocked) {
                StackTraceElement[] stack = info.getStackTrace();
                waitingFor.put(thread.getName(), "on " + info.getLockName() + " held by " + info.getLockOwnerName()
                        + (stack.length == 0 ? "" : ", at " + stack[0] + (stack.length > 1 ? " < " + stack[1] : "")));
            }
        }
    }

    private static boolean allowed(StackTraceElement[] stack) {
        for (StackTraceElement frame : stack) {
            if (frame.getClassName().startsWith(ALLOWED)) {
                return true;
            }
        }
        return false;
    }

    /** A test starts: what was waited before is not its doing. */
    static synchronized void start() {
        sample();
        waited.clear();
        waitingFor.clear();
    }

    /** One line per watched thread blocked longer than allowed since {@link #start}; empty when none was. */
    static synchronized List<String> check() {
        sample();
        List<String> found = new ArrayList<>();
        waited.forEach((thread, millis) -> {
            if (millis > MAX_MILLIS) {
                found.add(thread + " waited " + millis + " ms to enter synchronized code, held across blocking work "
                        + "elsewhere? (" + waitingFor.getOrDefault(thread, "not seen blocked") + ")");
            }
        });
        start();
        return found;
    }
}
