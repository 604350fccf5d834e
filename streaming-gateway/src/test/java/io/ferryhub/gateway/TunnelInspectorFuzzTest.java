package io.ferryhub.gateway;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.ferryhub.signaling.StreamToken;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.time.Clock;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the gateway's reading of tunnel frames ({@code ferryhub.tunnel.v1}) between the two ends of a tunnel stream:
 * {@link TunnelInspector} and its {@code Link} (HELLO, resume points, frame numbering) and {@link TunnelWatch}
 * (channel audit, OPEN policy enforcement), on two {@link EmbeddedChannel}s, one per end. A corpus file is a sequence
 * of frames behind two-byte big-endian lengths; a length with its top bit set sends the frame from the device's end.
 * The gateway passes frames on, replaces denied OPENs, or drops the stream; nothing may be thrown out of a channel.
 */
class TunnelInspectorFuzzTest {

    @Test
    void framesFromEitherEndNeverEscapeTheInspector() throws Exception {
        long ran = Fuzzer.forCorpus("tunnel-inspector").run(TunnelInspectorFuzzTest::feed);
        assertTrue(ran > 5);
    }

    static void feed(byte[] input) {
        StreamToken token = GatewayFixture.newStream("fuzz-device");
        TunnelWatches watches = new TunnelWatches(Clock.systemUTC(), event -> { });
        TunnelInspector.Link link = new TunnelInspector.Link(token, watches, Clock.systemUTC());
        EmbeddedChannel service = new EmbeddedChannel();
        service.pipeline().addLast(new TunnelInspector(link, link.newEnd(service)));
        EmbeddedChannel device = new EmbeddedChannel();
        device.pipeline().addLast(new TunnelInspector(link, link.newEnd(device)));
        try {
            int at = 0;
            while (at + 2 <= input.length) {
                int header = ((input[at] & 0xff) << 8) | (input[at + 1] & 0xff);
                at += 2;
                int n = Math.min(header & 0x7fff, input.length - at);
                EmbeddedChannel end = (header & 0x8000) != 0 ? device : service;
                end.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(Arrays.copyOfRange(input, at, at + n))));
                end.runPendingTasks();
                for (Object out = end.readInbound(); out != null; out = end.readInbound()) {
                    io.netty.util.ReferenceCountUtil.release(out);
                }
                at += n;
            }
            service.checkException();
            device.checkException();
            link.ended(service.eventLoop());
        } finally {
            service.finishAndReleaseAll();
            device.finishAndReleaseAll();
        }
    }
}
