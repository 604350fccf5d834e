package io.ferryhub.client.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ZeroMaskHandshakerTest {
    @Test
    void framesCarryTheMaskBitAKeyOfZeroAndThePayloadUnchanged() {
        ZeroMaskHandshaker handshaker = new ZeroMaskHandshaker(URI.create("wss://gateway.example:443/bridges/x"),
                null, new DefaultHttpHeaders(), 8192);
        EmbeddedChannel channel = new EmbeddedChannel(handshaker.newWebSocketEncoder());
        byte[] payload = "ferry".repeat(1000).getBytes(StandardCharsets.US_ASCII);
        channel.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)));

        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf part; (part = channel.readOutbound()) != null; ) {
            wire.writeBytes(part);
            part.release();
        }
        // FIN + binary; MASK bit + 126 (a 16-bit length follows): 5000; the 4-byte masking key, all zero; the
        // payload as it was (XOR with zero).
        assertEquals("82fe1388" + "00000000" + ByteBufUtil.hexDump(payload), ByteBufUtil.hexDump(wire));
        channel.finishAndReleaseAll();
    }
}
