package io.ferryhub.hub.blocking;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Consumer;

/**
 * What counts as blocking in the hub. Netty's own integration (found by BlockHound on the class path) marks the
 * event loops non-blocking and allows Netty's internals; this adds the hub's shared timer ({@code hub-timer}, which
 * fires method, stream and connection timeouts and whose tasks must be short) and the few allowances below, each
 * with its reason.
 */
final class HubBlockHoundIntegration implements BlockHoundIntegration {
    /** The name of the hub's shared timer thread ({@code hub-timer-1}). */
    static final String TIMER_PREFIX = "hub-timer";
    private final Consumer<String> onBlockingCall;

    HubBlockHoundIntegration(Consumer<String> onBlockingCall) {
        this.onBlockingCall = onBlockingCall;
    }

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.nonBlockingThreadPredicate(nonBlocking -> nonBlocking.or(
                thread -> thread.getName().startsWith(TIMER_PREFIX)));
        builder.blockingMethodCallback(method -> onBlockingCall.accept(method.toString()));

        // BlockHound knows the java.io file streams but not NIO file channels, which the hub's storage uses
        // (journal, event log, C2D store): reading, writing, fsyncing or opening a file waits for the disk.
        String fileChannel = "sun.nio.ch.FileChannelImpl";
        builder.markAsBlocking(fileChannel, "read", "(Ljava/nio/ByteBuffer;)I");
        builder.markAsBlocking(fileChannel, "read", "(Ljava/nio/ByteBuffer;J)I");
        builder.markAsBlocking(fileChannel, "read", "([Ljava/nio/ByteBuffer;II)J");
        builder.markAsBlocking(fileChannel, "write", "(Ljava/nio/ByteBuffer;)I");
        builder.markAsBlocking(fileChannel, "write", "(Ljava/nio/ByteBuffer;J)I");
        builder.markAsBlocking(fileChannel, "write", "([Ljava/nio/ByteBuffer;II)J");
        builder.markAsBlocking(fileChannel, "force", "(Z)V");
        builder.markAsBlocking(fileChannel, "transferTo", "(JJLjava/nio/channels/WritableByteChannel;)J");
        builder.markAsBlocking(fileChannel, "transferFrom", "(Ljava/nio/channels/ReadableByteChannel;JJ)J");
        builder.markAsBlocking("sun.nio.fs.UnixNativeDispatcher", "open0", "(JII)I");

        // A pool thread waiting for its next task, or ending, runs no task: that wait is the pool's, not a task's
        // (this is how the idle hub-timer sleeps until its next timeout is due).
        builder.allowBlockingCallsInside(ThreadPoolExecutor.class.getName(), "getTask");
        builder.allowBlockingCallsInside(ThreadPoolExecutor.class.getName(), "processWorkerExit");
        // Handing work to an executor or the storage writer is how event loops get blocking work done elsewhere:
        // offer() never waits for room, it only takes the queue's lock, which its holders keep for an enqueue or a
        // dequeue (no I/O). Contention parks the thread for that long; BlockHound reports any park.
        builder.allowBlockingCallsInside(LinkedBlockingQueue.class.getName(), "offer");
        builder.allowBlockingCallsInside(ArrayBlockingQueue.class.getName(), "offer"); // the event log's appends
        builder.allowBlockingCallsInside(ScheduledThreadPoolExecutor.class.getName() + "$DelayedWorkQueue",
                "offer");
        builder.allowBlockingCallsInside(ThreadPoolExecutor.class.getName(), "addWorker");
        // Netty's adaptive buffer allocator, growing its set of magazines under contention, takes each magazine's
        // StampedLock to retire it: held by other event loops for a few field updates (no I/O), as offer()'s lock.
        // Seen when several TLS connections on different event loops close at once (an IP filter change).
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup",
                "tryExpandMagazines");
        // The in-VM transport's event loop (the fuzz tests' LocalChannels) parks while it has no I/O or task, as a
        // socket event loop waits in select(): the loop's own idle wait, not a handler blocking it.
        builder.allowBlockingCallsInside("io.netty.channel.local.LocalIoHandler", "run");
    }
}
