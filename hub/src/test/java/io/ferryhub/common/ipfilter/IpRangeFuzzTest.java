package io.ferryhub.common.ipfilter;

import io.ferryhub.testsupport.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the IP filter's range parser (operators' text, from REST and from the hub's feed at gateways; here because
 * common's own tests cannot use test-support, which depends on nothing). A range either parses, matches addresses
 * without throwing and parses again from its own text to the same range, or is refused with an
 * IllegalArgumentException (which the routes turn into 400 ArgumentInvalid); nothing else, and never a name lookup.
 */
class IpRangeFuzzTest {
    private static final InetAddress[] PEERS = peers();

    @Test
    void rangesParseOrAreRefusedWithAReason() throws Exception {
        long ran = Fuzzer.forCorpus("ip-range")
                .dictionary("/", "/0", "/32", "/33", "/128", "/129", "::", ":", ".", "ffff:", "%", "[", "]", "0x",
                        "255", "256", "-1", " ", "localhost", "1.2.3.4", "::ffff:", "/999999999999")
                .run(IpRangeFuzzTest::parse);
        assertTrue(ran > 13);
    }

    private static void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        IpRange range;
        try {
            range = IpRange.parse(text);
        } catch (IllegalArgumentException refused) {
            assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank());
            return;
        }
        assertTrue(range.prefix() >= 0 && range.prefix() <= (range.isIpv4() ? 32 : 128), text);
        for (InetAddress peer : PEERS) {
            range.contains(peer);
        }
        assertEquals(range, IpRange.parse(range.toString()), text);
    }

    private static InetAddress[] peers() {
        try {
            return new InetAddress[] {InetAddress.getByName("127.0.0.1"), InetAddress.getByName("10.1.2.3"),
                    InetAddress.getByName("::1"), InetAddress.getByName("2001:db8::7"),
                    InetAddress.getByAddress(new byte[16])};
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
