package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.util.ArrayDeque;

/** One logical channel of a tunnel session: a local TCP connection and its flow-control state. Session-confined. */
final class TunnelChannel {
    final int id;
    final String target;
    /** Null on the accepting side until the target accepted the connection. */
    Channel local;
    /** OPEN_OK sent or received: data may flow. */
    boolean open;
    /** Bytes this side may still send on the channel (the peer's window). */
    long credit;
    /** Bytes the peer may still send: more is a protocol violation. */
    long allowance;
    /** The window this side grants the peer: the configured one at first, grown while it holds a bulk sender back. */
    int window;
    /** Bytes delivered to the local connection and not yet given back to the peer as window. */
    int consumed;
    /** Bytes handed to the local connection and not written to it yet: what the channel holds at this receiver. */
    int unwritten;
    /** The grant being timed: the limit the peer had before it (-1: none), and when it was sent. */
    long timedLimit = -1;
    long timedGrantNanos;
    /** The shortest time from a grant to the first byte beyond the limit it raised. */
    long shortestGrantDelayNanos = Long.MAX_VALUE;
    /** DATA frames received on this channel, and on the session's other channels when the timed grant was sent. */
    long dataFrames;
    long othersDataFramesWhenTimed;
    /** Credit the peer holds beyond a window shrunk since: not given back as bytes are consumed. */
    int withheld;
    /** Read from the local connection, not yet sent for want of credit or of a link. */
    final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    boolean localClosed;
    boolean closeSent;
    boolean closeReceived;
    long bytesOut;
    long bytesIn;

    TunnelChannel(int id, String target) {
        this.id = id;
        this.target = target;
    }

    void dropPending() {
        pending.forEach(ByteBuf::release);
        pending.clear();
    }
}
