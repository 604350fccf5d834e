package io.ferryhub.common.threads;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadFactory;

/**
 * Threads whose failures are seen. A thread killed by an exception is otherwise reported on stderr only, which a
 * service's log may never show, and a periodic task that throws is silently never run again: a hub that lost its
 * event-log writer or its retention that way would look alive until it stalled.
 */
public final class Threads {
    private static final Logger log = LoggerFactory.getLogger(Threads.class);

    /** Logs the failure that ended a thread. */
    public static final Thread.UncaughtExceptionHandler LOG_UNCAUGHT = (thread, failure) ->
            log.error("thread {} died: {}", thread.getName(), failure.toString(), failure);

    private Threads() {
    }

    /** For a program's main: every thread without a handler of its own logs what ended it. */
    public static void logUncaughtByDefault() {
        Thread.setDefaultUncaughtExceptionHandler(LOG_UNCAUGHT);
    }

    /** A daemon thread that logs what ended it. */
    public static Thread daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.setUncaughtExceptionHandler(LOG_UNCAUGHT);
        return thread;
    }

    /** Daemon threads named {@code name} that log what ended them, for an executor. */
    public static ThreadFactory daemonFactory(String name) {
        return task -> daemon(task, name);
    }

    /**
     * A periodic task that stays scheduled when one run throws: the failure is logged and the next run tries again.
     * An {@link Error} is logged and ends the schedule (the JVM is then not to be trusted; the launchers exit on
     * OutOfMemoryError).
     */
    public static Runnable periodic(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("{} failed; tried again next time", what, e);
            } catch (Error e) {
                log.error("{} failed; no longer run", what, e);
                throw e;
            }
        };
    }
}
