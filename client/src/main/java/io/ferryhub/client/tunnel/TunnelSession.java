package io.ferryhub.client.tunnel;

import io.ferryhub.common.relay.LoopMove;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * One tunnel session: many local TCP connections carried as logical channels over one WebSocket (the link).
 *
 * <p>All state is confined to one event loop; callbacks from other threads hop onto it. Every frame but HELLO and
 * ACK is numbered and kept in a {@link ReplayBuffer} until the peer acknowledges it, so when the link drops the
 * session waits (for the grace period) for a new link and sends again exactly what the peer did not process.
 * Each channel has its own credit window, so a bulk channel cannot take the memory or the turn of the others.
 */
public final class TunnelSession implements TunnelLink.Sink {
    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Acknowledge after this many numbered frames or bytes, so the peer's replay buffer stays small. */
    private static final int ACK_EVERY_FRAMES = 32;
    private static final int ACK_EVERY_BYTES = 128 * 1024;

    private static final WriteBufferWaterMark LINK_WATER_MARK = new WriteBufferWaterMark(32 * 1024, 128 * 1024);

    private static final long CLOSE_HANDSHAKE_MILLIS = 2_000;

    public enum Role { INITIATOR, ACCEPTOR }

    private final EventLoop loop;
    private final TunnelConfig config;
    private final Role role;
    private final byte[] id;
    private final String name;
    /** Acceptor: connects a channel's target; the channel it yields must not be reading yet. */
    private final BiFunction<String, EventLoop, CompletableFuture<Channel>> connector;
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private final ReplayBuffer replay = new ReplayBuffer();
    private final Map<Integer, TunnelChannel> channels = new HashMap<>();
    private final CompletableFuture<String> ended = new CompletableFuture<>();
    private volatile int channelCount;
    /** The largest window this side granted on any channel, and the most bytes any channel held here unwritten. */
    private volatile int largestChannelWindow;
    private volatile int mostBufferedBytes;
    private volatile int windowsShrunk;
    /** Channels whose window this side has grown beyond the configured one. */
    private final List<TunnelChannel> grown = new ArrayList<>();
    /** DATA frames received in the session so far, every channel's. */
    private long dataFrames;
    private volatile Runnable onDetached = () -> { };

    private Channel link;
    private long sent;
    private long received;
    private long acknowledged;
    private long bytesSinceAck;
    private long lastLinkRead = System.nanoTime();
    private int nextChannel = 1;
    private boolean blocked;
    private boolean ending;
    private io.netty.util.concurrent.ScheduledFuture<?> graceTimer;
    private io.netty.util.concurrent.ScheduledFuture<?> idleTimer;
    private final io.netty.util.concurrent.ScheduledFuture<?> heartbeat;

    TunnelSession(Role role, byte[] id, EventLoop loop, TunnelConfig config,
                  BiFunction<String, EventLoop, CompletableFuture<Channel>> connector) {
        this.role = role;
        this.id = id.clone();
        this.loop = loop;
        this.config = config;
        this.connector = connector;
        this.name = "tunnel " + HexFormat.of().formatHex(id, 0, 4);
        long beat = config.heartbeat().toMillis();
        this.heartbeat = loop.scheduleAtFixedRate(this::beat, beat, beat, TimeUnit.MILLISECONDS);
    }

    static byte[] newId() {
        byte[] id = new byte[16];
        RANDOM.nextBytes(id);
        return id;
    }

    byte[] id() {
        return id.clone();
    }

    String idHex() {
        return HexFormat.of().formatHex(id);
    }

    public String name() {
        return name;
    }

    EventLoop loop() {
        return loop;
    }

    /** Channels open now (any thread). */
    public int channelCount() {
        return channelCount;
    }

    /** The largest window this side has granted a channel so far (any thread). */
    public int largestChannelWindow() {
        return Math.max(largestChannelWindow, config.channelWindow());
    }

    /** The most bytes one channel has held at this side, received and not yet written locally (any thread). */
    public int mostBufferedBytes() {
        return mostBufferedBytes;
    }

    /** How many times a grown window went back to the configured size beside another channel (any thread). */
    public int windowsShrunk() {
        return windowsShrunk;
    }

    /** Completes once, with the reason, when the session is over. */
    public CompletableFuture<String> ended() {
        return ended;
    }

    public boolean isEnded() {
        return ended.isDone() || ending;
    }

    /** Called on the session's loop each time the link drops (the initiator reconnects from there). */
    void onDetached(Runnable hook) {
        this.onDetached = hook;
    }

    void execute(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    /** Numbered frames processed so far; what a HELLO carries. Session loop only. */
    long received() {
        return received;
    }

    // ---- links ------------------------------------------------------------------------------------------------

    /**
     * Makes {@code ws} the session's link: the peer processed {@code peerReceived} of our numbered frames, so the
     * rest are sent again, in order. The acceptor answers the initiator's HELLO first. Session loop only.
     */
    void attach(Channel ws, long peerReceived, boolean answerHello) {
        if (ending) {
            ws.close();
            return;
        }
        if (peerReceived > sent) {
            log.warn("{}: the peer claims {} frames, only {} were sent; ending", name, peerReceived, sent);
            ws.close();
            endNow("protocol error: bad resume point");
            return;
        }
        boolean resumed = sent > 0 || received > 0;
        if (link != null && link != ws) {
            Channel old = link;
            link = null;
            old.close();
        }
        link = ws;
        // Little queued on the link, so an interactive channel's frames wait behind little bulk data.
        ws.config().setWriteBufferWaterMark(LINK_WATER_MARK);
        lastLinkRead = System.nanoTime();
        if (graceTimer != null) {
            graceTimer.cancel(false);
            graceTimer = null;
        }
        if (answerHello) {
            ws.write(new BinaryWebSocketFrame(TunnelFrame.hello(alloc, 0, id, received)));
        }
        replay.acknowledge(peerReceived);
        long[] resent = new long[2];
        replay.forEach(frame -> {
            resent[0]++;
            resent[1] += frame.readableBytes();
            ws.write(new BinaryWebSocketFrame(frame));
        });
        ws.flush();
        if (resumed) {
            log.info("{} resumed over {}: {} frames ({} bytes) sent again, {} channels", name, ws.remoteAddress(),
                    resent[0], resent[1], channels.size());
        } else {
            log.info("{} open over {}", name, ws.remoteAddress());
        }
        resumeAll();
        armIdleTimer();
    }

    /** Closes the link abruptly, as a network failure would; the session then waits to be resumed. */
    void dropLink() {
        if (link != null) {
            link.close();
        }
    }

    private void detached(Channel ws, String why) {
        if (ws != link) {
            return;
        }
        link = null;
        if (ending) {
            return;
        }
        log.info("{}: link to the gateway lost ({}); waiting up to {} s for it to be resumed", name, why,
                config.grace().toSeconds());
        graceTimer = loop.schedule(() -> endNow("not resumed within " + config.grace().toMillis() + " ms"),
                config.grace().toMillis(), TimeUnit.MILLISECONDS);
        onDetached.run();
    }

    @Override
    public void frame(Channel ws, ByteBuf frame) {
        execute(() -> onFrame(ws, frame));
    }

    @Override
    public void closed(Channel ws) {
        execute(() -> detached(ws, "closed"));
    }

    @Override
    public void endedByHub(Channel ws, String reason) {
        execute(() -> {
            if (ws != link || ending) {
                return;
            }
            link = null;
            log.warn("{} ended by the hub ({}): its {} connections are closed and it is not resumed", name, reason,
                    channels.size());
            endNow("ended by the hub: " + reason);
        });
    }

    @Override
    public void writable(Channel ws) {
        execute(() -> {
            if (ws == link && blocked) {
                resumeAll();
            }
        });
    }

    private void beat() {
        if (link == null) {
            return;
        }
        if (System.nanoTime() - lastLinkRead > 3 * config.heartbeat().toNanos()) {
            log.info("{}: link silent for {} heartbeats; dropping it", name, 3);
            Channel dead = link;
            dead.close();
            detached(dead, "silent");
            return;
        }
        sendAck();
    }

    private void sendAck() {
        acknowledged = received;
        bytesSinceAck = 0;
        link.writeAndFlush(new BinaryWebSocketFrame(TunnelFrame.ack(alloc, received)), link.voidPromise());
    }

    // ---- sending ----------------------------------------------------------------------------------------------

    /** Sends a frame (takes ownership); a numbered one is also kept until acknowledged. */
    private void send(ByteBuf frame) {
        if (TunnelFrame.sequenced(TunnelFrame.type(frame))) {
            sent++;
            replay.add(sent, frame);
            if (link != null) {
                link.writeAndFlush(new BinaryWebSocketFrame(frame.retainedDuplicate()), link.voidPromise());
            }
        } else if (link != null) {
            link.writeAndFlush(new BinaryWebSocketFrame(frame), link.voidPromise());
        } else {
            frame.release();
        }
    }

    private boolean canSend() {
        return link != null && link.isWritable() && replay.bytes() < config.maxReplayBytes();
    }

    private void resumeAll() {
        blocked = false;
        for (TunnelChannel c : new ArrayList<>(channels.values())) {
            pump(c);
        }
    }

    /** Sends what the channel's credit and the link allow, then reads the local connection only if more fits. */
    private void pump(TunnelChannel c) {
        while (!c.pending.isEmpty() && c.open && c.credit > 0 && canSend()) {
            ByteBuf head = c.pending.peekFirst();
            int n = (int) Math.min(Math.min(head.readableBytes(), c.credit), TunnelFrame.MAX_DATA);
            ByteBuf payload = head.readRetainedSlice(n);
            if (!head.isReadable()) {
                c.pending.pollFirst().release();
            }
            c.credit -= n;
            c.bytesOut += n;
            send(TunnelFrame.data(alloc, c.id, payload));
        }
        if (c.localClosed && !c.closeSent && (c.pending.isEmpty() || c.closeReceived)) {
            c.closeSent = true;
            send(TunnelFrame.withReason(alloc, TunnelFrame.CLOSE, c.id, "closed"));
            forgetIfDone(c);
        }
        boolean sendable = canSend();
        if (!sendable) {
            blocked = true;
        }
        if (c.local != null && !c.localClosed) {
            c.local.config().setAutoRead(c.open && c.pending.isEmpty() && c.credit > 0 && sendable);
        }
    }

    // ---- channels ---------------------------------------------------------------------------------------------

    /**
     * Initiator: carries {@code local} (connected, not reading yet) to the device's target named {@code target}.
     * A connection registered with another event loop moves to the session's first: every byte it relays, and
     * every write completion that returns credit, then stays on one thread instead of being handed over between
     * two in each direction (a wake-up per hand-over, which a loaded machine turns into milliseconds per round trip).
     */
    public void openChannel(Channel local, String target) {
        LoopMove.onto(local, loop, () -> open(local, target), () -> { });
    }

    private void open(Channel local, String target) {
        execute(() -> {
            if (ending) {
                local.close();
                return;
            }
            if (channels.size() >= config.maxChannels()) {
                log.warn("{}: refusing a connection from {}: {} channels open", name, local.remoteAddress(),
                        channels.size());
                local.close();
                return;
            }
            TunnelChannel c = new TunnelChannel(nextChannel++, target);
            c.local = local;
            c.window = config.channelWindow();
            c.allowance = c.window;
            register(c);
            adopt(c);
            send(TunnelFrame.open(alloc, c.id, config.channelWindow(), target));
        });
    }

    private void register(TunnelChannel c) {
        channels.put(c.id, c);
        channelCount = channels.size();
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
    }

    private void forgetIfDone(TunnelChannel c) {
        if (c.closeSent && c.closeReceived && channels.remove(c.id, c)) {
            grown.remove(c);
            c.dropPending();
            channelCount = channels.size();
            log.debug("{}: channel {} to '{}' closed; {} bytes out, {} in", name, c.id, c.target, c.bytesOut,
                    c.bytesIn);
            armIdleTimer();
        }
    }

    private void armIdleTimer() {
        if (role != Role.INITIATOR || !channels.isEmpty() || config.sessionIdle().isZero() || idleTimer != null
                || ending) {
            return;
        }
        idleTimer = loop.schedule(() -> {
            idleTimer = null;
            if (channels.isEmpty()) {
                end("idle for " + config.sessionIdle().toSeconds() + " s");
            }
        }, config.sessionIdle().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Reads the local connection into the session; its reads stay small, so a paused channel holds little. */
    private void adopt(TunnelChannel c) {
        Channel local = c.local;
        local.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator(512, 16 * 1024, 64 * 1024)
                .maxMessagesPerRead(1));
        if (!config.channelIdle().isZero()) {
            local.pipeline().addLast("tunnel-idle", new IdleStateHandler(0, 0, config.channelIdle().toMillis(),
                    TimeUnit.MILLISECONDS));
        }
        local.pipeline().addLast("tunnel-channel", new LocalHandler(c));
        if (!local.isActive()) {
            localClosed(c);
        }
    }

    private void fromLocal(TunnelChannel c, ByteBuf data) {
        if (c.closeReceived || c.localClosed || ending) {
            data.release();
            return;
        }
        c.pending.addLast(data);
        pump(c);
    }

    private void localClosed(TunnelChannel c) {
        if (c.localClosed) {
            return;
        }
        c.localClosed = true;
        if (!ending && channels.get(c.id) == c) {
            pump(c);
        }
    }

    private void closeLocal(TunnelChannel c) {
        c.localClosed = true;
        if (c.local != null) {
            c.local.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    // ---- receiving --------------------------------------------------------------------------------------------

    private void onFrame(Channel ws, ByteBuf frame) {
        try {
            if (ws != link || ending) {
                return; // a replaced link: the new link's HELLO said what counts
            }
            lastLinkRead = System.nanoTime();
            byte type = TunnelFrame.type(frame);
            if (TunnelFrame.sequenced(type)) {
                received++;
                bytesSinceAck += frame.readableBytes();
            }
            dispatch(type, TunnelFrame.channel(frame), TunnelFrame.body(frame));
            if (link != null && (received - acknowledged >= ACK_EVERY_FRAMES || bytesSinceAck >= ACK_EVERY_BYTES)) {
                sendAck();
            }
        } catch (IndexOutOfBoundsException e) {
            log.warn("{}: malformed frame {}; ending", name, TunnelFrame.describe(frame));
            endNow("protocol error: malformed frame");
        } finally {
            frame.release();
        }
    }

    private void dispatch(byte type, int channelId, ByteBuf body) {
        switch (type) {
            case TunnelFrame.DATA -> onData(channelId, body);
            case TunnelFrame.WINDOW -> {
                TunnelChannel c = channels.get(channelId);
                if (c != null) {
                    c.credit += body.readUnsignedInt();
                    pump(c);
                }
            }
            case TunnelFrame.ACK -> {
                replay.acknowledge(body.readLong());
                if (blocked) {
                    resumeAll();
                }
            }
            case TunnelFrame.OPEN -> onOpen(channelId, body.readInt(), TunnelFrame.text(body));
            case TunnelFrame.OPEN_OK -> {
                TunnelChannel c = channels.get(channelId);
                if (c != null && !c.open) {
                    c.open = true;
                    c.credit = body.readUnsignedInt();
                    pump(c);
                }
            }
            case TunnelFrame.OPEN_FAIL -> {
                TunnelChannel c = channels.remove(channelId);
                if (c != null) {
                    channelCount = channels.size();
                    // WARN, with the local connection's address: its client (ssh) only sees the connection close
                    log.warn("{}: the device refused the connection from {} (channel {} to '{}'): {}", name,
                            c.local == null ? "?" : c.local.remoteAddress(), channelId, c.target,
                            TunnelFrame.text(body));
                    c.dropPending();
                    closeLocal(c);
                    armIdleTimer();
                }
            }
            case TunnelFrame.CLOSE -> onClose(channelId);
            case TunnelFrame.REVOKE -> onRevoke(channelId, TunnelFrame.text(body));
            case TunnelFrame.END -> {
                String why = TunnelFrame.text(body);
                log.info("{}: ended by the peer: {}", name, why);
                endNow("ended by the peer: " + why);
            }
            case TunnelFrame.HELLO -> log.debug("{}: HELLO on an attached link ignored", name);
            default -> log.debug("{}: frame type {} ignored", name, type);
        }
    }

    private void onData(int channelId, ByteBuf body) {
        TunnelChannel c = channels.get(channelId);
        int n = body.readableBytes();
        if (c == null || c.local == null || c.localClosed || c.closeReceived) {
            return; // the channel is closing: its last bytes have nowhere to go
        }
        c.allowance -= n;
        if (c.allowance < 0) {
            log.warn("{}: channel {} sent beyond its window; closing it", name, channelId);
            c.dropPending();
            closeLocal(c);
            pump(c);
            return;
        }
        c.bytesIn += n;
        c.dataFrames++;
        dataFrames++;
        if (!grown.isEmpty()) {
            shrinkWindowsBeside(c);
        }
        boolean peerWaited = false;
        if (c.timedLimit >= 0 && c.bytesIn > c.timedLimit) {
            // The peer cannot send beyond a limit before the grant raising it arrives: the fastest any grant came
            // back as data is the path's round trip, and one that comes back about that fast found the peer waiting
            // for it with nothing queued ahead of its bytes. It counts only if no other channel moved data
            // meanwhile: a channel grows only alone.
            long delay = System.nanoTime() - c.timedGrantNanos;
            c.timedLimit = -1;
            c.shortestGrantDelayNanos = Math.min(c.shortestGrantDelayNanos, delay);
            boolean alone = dataFrames - c.dataFrames == c.othersDataFramesWhenTimed;
            peerWaited = alone && delay <= c.shortestGrantDelayNanos + c.shortestGrantDelayNanos / 2;
        }
        c.unwritten += n;
        if (c.unwritten > mostBufferedBytes) {
            mostBufferedBytes = c.unwritten;
        }
        c.local.writeAndFlush(body.retain()).addListener(f -> {
            if (f.isSuccess()) {
                execute(() -> consumed(c, n));
            }
        });
        if (peerWaited) {
            growWindowIfItHoldsThePeerBack(c);
        }
    }

    /** The local connection took {@code n} bytes: give the window back in batches, not per write. */
    private void consumed(TunnelChannel c, int n) {
        c.unwritten -= n;
        if (c.closeSent || c.closeReceived || ending) {
            return;
        }
        c.consumed += n;
        if (c.consumed >= c.window / 4) {
            int increment = c.consumed;
            c.consumed = 0;
            // A window shrunk below what the peer was granted: what it took back is not given back.
            int withheld = Math.min(increment, c.withheld);
            c.withheld -= withheld;
            if (increment > withheld) {
                grant(c, increment - withheld);
            }
        }
    }

    /**
     * Another channel moves data beside grown ones: their windows go back to the configured size, so that their
     * bytes queued on the path in front of the other channel's frames are bounded as before (fairness). The
     * peer keeps the credit it has; the receiver gives back less until the difference is made up.
     */
    private void shrinkWindowsBeside(TunnelChannel active) {
        if (grown.size() == 1 && grown.get(0) == active) {
            return;
        }
        grown.removeIf(g -> {
            if (g == active) {
                return false;
            }
            g.withheld += g.window - config.channelWindow();
            g.window = config.channelWindow();
            windowsShrunk++;
            log.debug("{}: channel {} window back to {} bytes beside channel {}", name, g.id, g.window, active.id);
            return true;
        });
    }

    /** Gives the peer {@code increment} more bytes of credit on the channel; times the grant if none is timed. */
    private void grant(TunnelChannel c, int increment) {
        if (c.timedLimit < 0) {
            c.timedLimit = c.bytesIn + c.allowance;
            c.timedGrantNanos = System.nanoTime();
            c.othersDataFramesWhenTimed = dataFrames - c.dataFrames;
        }
        c.allowance += increment;
        send(TunnelFrame.window(alloc, c.id, increment));
    }

    /**
     * The peer waited for the last grant: doubles the channel's window (up to the maximum) if the window is what
     * holds it back, that is if the local connection also took what arrived (else this side is the bottleneck).
     * Past the path's bandwidth-delay product a larger window would not move more bytes, only queue them in front
     * of the other channels' frames; the queue delays the grants' bytes, and the growth stops.
     */
    private void growWindowIfItHoldsThePeerBack(TunnelChannel c) {
        if (c.window >= config.maxChannelWindow() || c.unwritten > c.window / 4 || c.withheld > 0) {
            return;
        }
        if (c.window == config.channelWindow()) {
            grown.add(c);
        }
        int growth = Math.min(c.window, config.maxChannelWindow() - c.window);
        c.window += growth;
        if (c.window > largestChannelWindow) {
            largestChannelWindow = c.window;
        }
        grant(c, growth);
        log.debug("{}: channel {} window grown to {} bytes", name, c.id, c.window);
    }

    private void onOpen(int channelId, int window, String target) {
        if (role != Role.ACCEPTOR || channels.containsKey(channelId)) {
            send(TunnelFrame.withReason(alloc, TunnelFrame.OPEN_FAIL, channelId, "unexpected OPEN"));
            return;
        }
        if (channels.size() >= config.maxChannels()) {
            send(TunnelFrame.withReason(alloc, TunnelFrame.OPEN_FAIL, channelId,
                    "too many channels (" + config.maxChannels() + ")"));
            return;
        }
        TunnelChannel c = new TunnelChannel(channelId, target);
        c.credit = Integer.toUnsignedLong(window);
        c.window = config.channelWindow();
        c.allowance = c.window;
        register(c);
        connector.apply(target, loop).whenComplete((local, failure) -> execute(() -> {
            if (failure != null || ending || c.closeReceived) {
                if (local != null) {
                    local.close();
                }
                if (channels.remove(channelId, c)) {
                    channelCount = channels.size();
                }
                if (!ending) {
                    send(TunnelFrame.withReason(alloc, TunnelFrame.OPEN_FAIL, channelId,
                            failure != null ? rootMessage(failure) : "closed before it opened"));
                }
                return;
            }
            c.local = local;
            c.open = true;
            adopt(c);
            send(TunnelFrame.openOk(alloc, channelId, config.channelWindow()));
            pump(c);
        }));
    }

    /** The gateway revoked the channel at both ends: it is closed here at once, with nothing sent about it. */
    private void onRevoke(int channelId, String why) {
        TunnelChannel c = channels.get(channelId);
        if (c == null) {
            return;
        }
        log.info("{}: channel {} to '{}' revoked by the gateway: {}", name, channelId, c.target, why);
        c.closeReceived = true;
        c.closeSent = true;
        c.dropPending();
        if (c.local != null) {
            closeLocal(c);
        }
        // still connecting (device side): the attempt's outcome finds closeReceived and closes what it opened
        forgetIfDone(c);
    }

    private void onClose(int channelId) {
        TunnelChannel c = channels.get(channelId);
        if (c == null) {
            return;
        }
        c.closeReceived = true;
        if (c.local == null) {
            return; // still connecting: OPEN_FAIL answers once the attempt is over
        }
        c.dropPending();
        closeLocal(c);
        if (!c.closeSent) {
            c.closeSent = true;
            send(TunnelFrame.withReason(alloc, TunnelFrame.CLOSE, c.id, "closed"));
        }
        forgetIfDone(c);
    }

    // ---- ending -----------------------------------------------------------------------------------------------

    /**
     * Ends the session: tells the peer, closes every channel (after the bytes already written). Any thread. The
     * future completes once the link is closed, so a caller that stops its event loops does not cut the END off.
     */
    public CompletableFuture<Void> end(String reason) {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        execute(() -> {
            Channel last = link;
            if (!ending) {
                send(TunnelFrame.withReason(alloc, TunnelFrame.END, 0, reason));
                endNow(reason);
            }
            if (last == null) {
                closed.complete(null);
            } else {
                last.closeFuture().addListener(f -> closed.complete(null));
            }
        });
        return closed;
    }

    /** Ends the session without telling the peer (it is gone, or broke the protocol). Session loop only. */
    void endNow(String reason) {
        if (ended.isDone()) {
            return;
        }
        ending = true;
        heartbeat.cancel(false);
        if (graceTimer != null) {
            graceTimer.cancel(false);
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        for (TunnelChannel c : channels.values()) {
            c.dropPending();
            closeLocal(c);
        }
        channels.clear();
        grown.clear();
        channelCount = 0;
        replay.clear();
        if (link != null) {
            // The WebSocket closing handshake, not an abrupt close: closing a socket with unread data in it resets
            // the connection, and the peer could lose the frames (END) still on their way to it.
            Channel last = link;
            link = null;
            last.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE));
            last.eventLoop().schedule(() -> {
                last.close();
            }, CLOSE_HANDSHAKE_MILLIS, TimeUnit.MILLISECONDS);
        }
        log.info("{} ended: {}", name, reason);
        ended.complete(reason);
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException)) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    /** The session's end of one local connection. */
    private final class LocalHandler extends ChannelInboundHandlerAdapter {
        private final TunnelChannel c;

        LocalHandler(TunnelChannel c) {
            this.c = c;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data = (ByteBuf) msg;
            execute(() -> fromLocal(c, data));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            execute(() -> localClosed(c));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                log.info("{}: channel {} idle for {} s; closing it", name, c.id, config.channelIdle().toSeconds());
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: channel {} failed", name, c.id, cause);
            ctx.close();
        }
    }
}
