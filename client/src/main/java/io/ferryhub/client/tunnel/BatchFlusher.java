package io.ferryhub.client.tunnel;

import io.netty.channel.Channel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Flushes the channels written during one batch of an event loop's work once, after the batch: the loop runs its
 * tasks after the reads it found ready, so every frame those reads produced leaves in one TLS record run and one
 * socket write instead of one each (a flush per 32 KiB frame cost a wrap and a syscall per frame). Confined to
 * the loop it is made for.
 */
final class BatchFlusher {
    /** Runs a task after the work the loop has in hand: the loop itself ({@code EventLoop.execute}). */
    private final Executor afterBatch;
    private final List<Channel> written = new ArrayList<>();
    private final Runnable flushAll = this::flushAll;
    private boolean scheduled;

    BatchFlusher(Executor afterBatch) {
        this.afterBatch = afterBatch;
    }

    /** Marks {@code channel} as written: it is flushed once the loop's current batch is done. Loop only. */
    void written(Channel channel) {
        if (!written.contains(channel)) {
            written.add(channel);
        }
        if (!scheduled) {
            scheduled = true;
            afterBatch.execute(flushAll);
        }
    }

    private void flushAll() {
        scheduled = false;
        // A flush can complete writes whose listeners write (and mark) again: those go in the next round.
        Channel[] now = written.toArray(new Channel[0]);
        written.clear();
        for (Channel channel : now) {
            channel.flush();
        }
    }
}
