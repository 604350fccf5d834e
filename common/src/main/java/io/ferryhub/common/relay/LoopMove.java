package io.ferryhub.common.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a channel onto another event loop before it is relayed into a channel of that loop: every byte relayed,
 * and every write completion, then stays on one thread instead of being handed over between two in each direction
 * (a task queued and a wake-up of the other loop per read batch, which a loaded machine turns into milliseconds per
 * round trip). The channel should not be reading yet: nothing is read while it is between loops.
 */
public final class LoopMove {
    private static final Logger log = LoggerFactory.getLogger(LoopMove.class);

    private LoopMove() {
    }

    /**
     * Moves {@code ch} onto {@code loop}, then runs {@code then} (on the thread that completed the move). If the
     * loop does not take the channel, it stays on its own loop (relayed across threads, as without the move) and
     * {@code then} runs all the same. Only if neither loop takes it back is the channel closed, and {@code lost}
     * runs instead.
     */
    public static void onto(Channel ch, EventLoop loop, Runnable then, Runnable lost) {
        if (!ch.isRegistered() || ch.eventLoop() == loop) {
            then.run();
            return;
        }
        EventLoop from = ch.eventLoop();
        ch.deregister().addListener(deregistered -> {
            if (!deregistered.isSuccess()) {
                then.run();
                return;
            }
            loop.register(ch).addListener(moved -> {
                if (moved.isSuccess()) {
                    then.run();
                    return;
                }
                log.debug("connection from {} stays on its own loop: {}", ch.remoteAddress(),
                        moved.cause() == null ? "not moved" : moved.cause().getMessage());
                from.register(ch).addListener(back -> {
                    if (back.isSuccess()) {
                        then.run();
                    } else {
                        ch.unsafe().closeForcibly();
                        lost.run();
                    }
                });
            });
        });
    }
}
