package io.ferryhub.hub.blocking;

import io.ferryhub.testsupport.Await;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

import java.io.FileInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The guard works: run through JUnit as any hub test is (extension auto-detection from the module's
 * junit-platform.properties), a test whose code blocks on a Netty event loop or on the hub's timer (a sleep, a
 * file channel's fsync, a file read, a wait for a lock held elsewhere) fails, naming the call or the wait and the
 * thread, and a test that blocks on a thread of its own passes.
 */
class NoBlockingGuardTest {
    /** The sample tests run only when this test runs them, never on their own. */
    private static volatile boolean runByGuardTest;

    @Test
    void aTestThatBlocksOnAnEventLoopOrTheHubTimerFails() {
        runByGuardTest = true;
        EngineExecutionResults results;
        try {
            // implicit configuration: the module's junit-platform.properties, as for every other test
            results = EngineTestKit.engine("junit-jupiter").enableImplicitConfigurationParameters(true)
                    .selectors(selectClass(Samples.class)).execute();
        } finally {
            runByGuardTest = false;
        }
        List<Event> failed = results.testEvents().failed().list();
        assertEquals(4, failed.size(), "failed: " + failed + "; all: " + results.allEvents().list());
        assertEquals(1, results.testEvents().succeeded().count());
        String eventLoop = failureOf(failed, "sleepsOnAnEventLoop");
        assertTrue(eventLoop.contains("java.lang.Thread.sleep on multiThreadIoEventLoopGroup"), eventLoop);
        String fsync = failureOf(failed, "fsyncsAFileOnAnEventLoop");
        assertTrue(fsync.contains("sun.nio.ch.FileChannelImpl") && fsync.contains("force"), fsync);
        String lock = failureOf(failed, "waitsForALockOnAnEventLoop");
        assertTrue(lock.contains("multiThreadIoEventLoopGroup") && lock.contains("to enter synchronized code"), lock);
        String timer = failureOf(failed, "readsAFileOnTheHubTimer");
        assertTrue(timer.contains("java.io.FileInputStream#readBytes on hub-timer-sample"), timer);
    }

    private static String failureOf(List<Event> failed, String test) {
        return failed.stream().filter(e -> e.getTestDescriptor().getDisplayName().startsWith(test)).findFirst()
                .flatMap(e -> e.getPayload(org.junit.platform.engine.TestExecutionResult.class))
                .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable)
                .map(Throwable::getMessage).orElse("(" + test + " did not fail)");
    }

    /** Tests as a careless hub test would write them. */
    static class Samples {
        @Test
        void sleepsOnAnEventLoop() throws Exception {
            Assumptions.assumeTrue(runByGuardTest);
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try {
                group.submit(() -> {
                    Thread.sleep(1);
                    return null;
                }).get(30, TimeUnit.SECONDS);
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }

        @Test
        void fsyncsAFileOnAnEventLoop() throws Exception {
            Assumptions.assumeTrue(runByGuardTest);
            Path file = Files.createTempFile("guard", ".txt");
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                group.submit(() -> {
                    channel.force(true);
                    return null;
                }).get(30, TimeUnit.SECONDS);
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                Files.delete(file);
            }
        }

        @Test
        void waitsForALockOnAnEventLoop() throws Exception {
            Assumptions.assumeTrue(runByGuardTest);
            Object lock = new Object();
            AtomicReference<Thread> loop = new AtomicReference<>();
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try {
                Future<Object> entered;
                synchronized (lock) {
                    entered = group.submit(() -> {
                        loop.set(Thread.currentThread());
                        synchronized (lock) {
                            return null;
                        }
                    });
                    // held until the loop has waited well beyond what the guard allows (the guard samples)
                    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                    Await.until("the event loop waited for the lock longer than the guard allows",
                            () -> loop.get() != null && threads.getThreadInfo(loop.get().getId()).getBlockedTime()
                                    > MonitorWaits.MAX_MILLIS + 500);
                }
                entered.get(30, TimeUnit.SECONDS);
            } finally {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        }

        @Test
        void readsAFileOnTheHubTimer() throws Exception {
            Assumptions.assumeTrue(runByGuardTest);
            Path file = Files.createTempFile("guard", ".txt");
            ExecutorService timer = Executors.newSingleThreadExecutor(r -> new Thread(r, "hub-timer-sample"));
            try {
                timer.submit(() -> {
                    try (FileInputStream in = new FileInputStream(file.toFile())) {
                        return in.readAllBytes();
                    }
                }).get(30, TimeUnit.SECONDS);
            } finally {
                timer.shutdownNow();
                Files.delete(file);
            }
        }

        @Test
        void blocksOnAThreadOfItsOwn() throws Exception {
            Assumptions.assumeTrue(runByGuardTest);
            ExecutorService worker = Executors.newSingleThreadExecutor(r -> new Thread(r, "storage-worker"));
            try {
                worker.submit(() -> {
                    // a timed wait for a condition that never comes: parked, as any blocking wait is
                    new CountDownLatch(1).await(1, TimeUnit.MILLISECONDS);
                    return null;
                }).get(30, TimeUnit.SECONDS);
            } finally {
                worker.shutdownNow();
            }
        }
    }
}
