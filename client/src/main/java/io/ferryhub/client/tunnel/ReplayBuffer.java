package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The numbered frames a peer sent but has not acknowledged yet, kept so that a resumed link can send them again:
 * nothing lost, since the peer acknowledges only what it processed; nothing duplicated, since the peer says how
 * many it processed and only the rest is sent.
 */
final class ReplayBuffer {
    private record Entry(long seq, ByteBuf frame) {
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long bytes;

    /** Keeps {@code frame} (takes ownership). */
    void add(long seq, ByteBuf frame) {
        entries.add(new Entry(seq, frame));
        bytes += frame.readableBytes();
    }

    /** Drops the frames the peer processed: every one numbered up to {@code received}. */
    void acknowledge(long received) {
        while (!entries.isEmpty() && entries.peekFirst().seq() <= received) {
            Entry e = entries.pollFirst();
            bytes -= e.frame().readableBytes();
            e.frame().release();
        }
    }

    /** Hands each kept frame, in order, to {@code send} (as a new reference the consumer owns). */
    void forEach(Consumer<ByteBuf> send) {
        for (Entry e : entries) {
            send.accept(e.frame().retainedDuplicate());
        }
    }

    long bytes() {
        return bytes;
    }

    void clear() {
        entries.forEach(e -> e.frame().release());
        entries.clear();
        bytes = 0;
    }
}
