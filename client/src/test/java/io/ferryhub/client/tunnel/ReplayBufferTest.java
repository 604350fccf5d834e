package io.ferryhub.client.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a resumed link sends again: exactly the frames above the peer's count, in order, none leaked. */
class ReplayBufferTest {
    @Test
    void keepsOnlyWhatThePeerHasNotProcessed() {
        ReplayBuffer replay = new ReplayBuffer();
        List<ByteBuf> frames = new ArrayList<>();
        for (int seq = 1; seq <= 5; seq++) {
            ByteBuf frame = Unpooled.buffer().writeInt(seq).writeZero(seq * 10);
            frames.add(frame);
            replay.add(seq, frame);
        }
        assertEquals(5 * 4 + 150, replay.bytes());

        replay.acknowledge(2);
        assertEquals(0, frames.get(0).refCnt());
        assertEquals(0, frames.get(1).refCnt());
        assertEquals(3 * 4 + 120, replay.bytes());

        List<Integer> resent = new ArrayList<>();
        replay.forEach(copy -> {
            resent.add(copy.getInt(0));
            copy.release();
        });
        assertEquals(List.of(3, 4, 5), resent);

        replay.acknowledge(2); // an old count changes nothing
        assertEquals(3 * 4 + 120, replay.bytes());
        replay.clear();
        assertEquals(0, replay.bytes());
        frames.forEach(f -> assertEquals(0, f.refCnt()));
    }

    @Test
    void framesHaveTheDocumentedLayout() {
        ByteBuf hello = TunnelFrame.hello(ByteBufAllocator.DEFAULT, TunnelFrame.FLAG_RESUME,
                new byte[16], 42);
        Hello parsed = Hello.parse(hello);
        assertEquals(TunnelFrame.VERSION, parsed.version());
        assertEquals(TunnelFrame.FLAG_RESUME, parsed.flags());
        assertEquals(42, parsed.received());
        assertEquals(5 + 2 + 16 + 8, hello.readableBytes());
        hello.release();

        ByteBuf window = TunnelFrame.window(ByteBufAllocator.DEFAULT, 7, 65536);
        assertEquals(TunnelFrame.WINDOW, TunnelFrame.type(window));
        assertEquals(7, TunnelFrame.channel(window));
        assertEquals(65536, TunnelFrame.body(window).readInt());
        window.release();
    }
}
