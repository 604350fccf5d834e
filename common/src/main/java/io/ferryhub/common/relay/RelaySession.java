package io.ferryhub.common.relay;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Two joined channels relaying bytes both ways. Ends when either end closes, fails or idles; the other end is then
 * closed at once (after the bytes already relayed to it). {@link #closed()} completes with the reason.
 */
public final class RelaySession {
    private final String nameA;
    private final String nameB;
    final Channel a;
    final Channel b;
    final RelayEnd kindA;
    final RelayEnd kindB;
    private final AtomicLong bytesAtoB = new AtomicLong();
    private final AtomicLong bytesBtoA = new AtomicLong();
    private final AtomicReference<String> reason = new AtomicReference<>();
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final Instant started = Instant.now();

    RelaySession(String nameA, Channel a, RelayEnd kindA, String nameB, Channel b, RelayEnd kindB) {
        this.nameA = nameA;
        this.nameB = nameB;
        this.a = a;
        this.b = b;
        this.kindA = kindA;
        this.kindB = kindB;
    }

    /** Bytes read from end A and written towards end B (payload only, no framing). */
    public long bytesAtoB() {
        return bytesAtoB.get();
    }

    public long bytesBtoA() {
        return bytesBtoA.get();
    }

    public Duration age() {
        return Duration.between(started, Instant.now());
    }

    /** Completes once with why the session ended, e.g. {@code "device closed"} or {@code "idle"}. */
    public CompletableFuture<String> closed() {
        return closed;
    }

    void count(Channel from, int bytes) {
        (from == a ? bytesAtoB : bytesBtoA).addAndGet(bytes);
    }

    String nameOf(Channel ch) {
        return ch == a ? nameA : nameB;
    }

    Channel peerOf(Channel ch) {
        return ch == a ? b : a;
    }

    RelayEnd kindOf(Channel ch) {
        return ch == a ? kindA : kindB;
    }

    /** Ends the session, closing both ends; the first reason wins. */
    public void close(String why) {
        close(why, WebSocketCloseStatus.NORMAL_CLOSURE);
    }

    /** Ends the session with a close status of its own (e.g. a final close) on its WebSocket ends. */
    public void close(String why, WebSocketCloseStatus status) {
        if (!reason.compareAndSet(null, why)) {
            return;
        }
        kindA.closeAfterPendingWrites(a, status);
        kindB.closeAfterPendingWrites(b, status);
        closed.complete(why);
    }
}
