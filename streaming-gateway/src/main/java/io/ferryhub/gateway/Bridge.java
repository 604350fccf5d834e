package io.ferryhub.gateway;

import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;

import io.ferryhub.common.relay.RelaySession;
import io.ferryhub.signaling.StreamToken;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/** The gateway's record of one stream, from its first connection until its token can no longer be presented. */
final class Bridge {
    enum State { WAITING, RELAYING, CLOSED }

    final StreamToken token;
    final Instant opened = Instant.now();
    State state = State.WAITING;
    /** Connections admitted for this stream so far (handshaking or connected): never more than two. */
    int ends = 1;
    /** The sides their tokens name: one end each (tokens from before tokens named sides name none). */
    final Set<StreamToken.Side> sides = EnumSet.noneOf(StreamToken.Side.class);
    /** The end whose handshake completed first: the relay's "first" end. */
    Channel first;
    /** The other end, once joined to the first (on the first end's event loop). */
    Channel second;
    /** The side its token names (null for tokens naming none): {@link #token} is the first end admitted, whose
     * handshake may complete second. */
    StreamToken.Side firstSide;
    /** The first end chose the tunnel sub-protocol; the second must have chosen the same. */
    boolean tunnel;
    ScheduledFuture<?> handshakeTimer;
    RelaySession session;
    /**
     * Set (under the gateway's lock) when the stream was closed for good before its relay existed: the relay, once
     * joined, closes at once with it, so the second end is told the same final status as the first.
     */
    WebSocketCloseStatus finalClose;
    /** Set for a tunnel stream: what the gateway follows of the session it carries. */
    TunnelInspector.Link link;
    /** Set when the stream is recorded. */
    StreamRecorder recorder;
    /** Where the recorder came from: its retention applies when the recording ends, even if replaced meanwhile. */
    StreamRecordings recordings;

    Bridge(StreamToken token) {
        this.token = token;
    }

    String identity() {
        return token.moduleId() == null ? token.deviceId() : token.deviceId() + "/" + token.moduleId();
    }

    StreamInfo info() {
        RelaySession s = session;
        return new StreamInfo(token.streamId(), token.hubName(), token.deviceId(), token.moduleId(),
                token.streamName(), token.initiator(), state == State.RELAYING ? "relaying" : "waiting", opened,
                firstSide, s == null ? 0 : s.bytesAtoB(), s == null ? 0 : s.bytesBtoA(), token.initiatorKey());
    }
}
