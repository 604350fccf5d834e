package io.ferryhub.common.ipfilter;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpRangeTest {
    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal); // literals only: no lookup
    }

    @Test
    void ipv4BlocksHoldTheirAddressesOnly() throws Exception {
        IpRange range = IpRange.parse("192.168.100.0/22");
        assertTrue(range.contains(ip("192.168.100.0")));
        assertTrue(range.contains(ip("192.168.103.255")));
        assertFalse(range.contains(ip("192.168.104.0")));
        assertFalse(range.contains(ip("192.168.99.255")));
        assertFalse(range.contains(ip("::1")), "an IPv4 block never holds an IPv6 address");
        assertEquals(22, range.prefix());
        assertEquals("192.168.100.0/22", range.toString());
    }

    @Test
    void aSingleAddressIsAWholePrefix() throws Exception {
        assertTrue(IpRange.parse("127.0.0.2").contains(ip("127.0.0.2")));
        assertFalse(IpRange.parse("127.0.0.2").contains(ip("127.0.0.1")));
        assertEquals(32, IpRange.parse(" 10.0.0.1 ").prefix());
        assertTrue(IpRange.parse("::1").contains(ip("::1")));
        assertEquals(128, IpRange.parse("::1").prefix());
    }

    @Test
    void hostBitsAreIgnoredAsIotHubDoes() throws Exception {
        IpRange range = IpRange.parse("6.6.6.6/6");
        assertTrue(range.contains(ip("4.0.0.0")));
        assertTrue(range.contains(ip("7.255.255.255")));
        assertFalse(range.contains(ip("8.0.0.0")));
        assertEquals(IpRange.parse("4.0.0.0/6"), range);
    }

    @Test
    void zeroPrefixHoldsTheWholeFamily() throws Exception {
        assertTrue(IpRange.parse("0.0.0.0/0").contains(ip("203.0.113.9")));
        assertFalse(IpRange.parse("0.0.0.0/0").contains(ip("2001:db8::1")));
        assertTrue(IpRange.parse("::/0").contains(ip("2001:db8::1")));
    }

    @Test
    void ipv6Blocks() throws Exception {
        IpRange range = IpRange.parse("2001:db8::/32");
        assertTrue(range.contains(ip("2001:db8:ffff::1")));
        assertFalse(range.contains(ip("2001:db9::1")));
        assertFalse(range.contains(ip("10.0.0.1")));
        IpRange odd = IpRange.parse("fe80::/10");
        assertTrue(odd.contains(ip("febf::1")));
        assertFalse(odd.contains(ip("fec0::1")));
    }

    @Test
    void ipv4MappedRangesMatchIpv4Peers() throws Exception {
        IpRange mapped = IpRange.parse("::ffff:10.0.0.0/104");
        assertTrue(mapped.isIpv4());
        assertTrue(mapped.contains(ip("10.1.2.3")));
        assertFalse(mapped.contains(ip("11.0.0.0")));
    }

    @Test
    void badTextIsRefusedWithTheReason() {
        for (String bad : new String[] {"", " ", "localhost", "example.com", "256.0.0.1", "1.2.3", "1.2.3.4.5",
                "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/0008", "10.0.0.0/8/8", "::1%lo",
                "[::1]", "1::2::3", "10.0.0.0 /8", "/8", "0x7f.0.0.1", "1.2.3.4/ 8"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpRange.parse(bad), bad);
            assertTrue(e.getMessage().contains("address") || e.getMessage().contains("prefix"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> IpRange.parse(null));
    }

    @Test
    void prefixesOutOfRangeSaySo() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpRange.parse("10.0.0.0/33")).getMessage()
                .contains("0 to 32"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpRange.parse("::/129")).getMessage()
                .contains("0 to 128"));
        assertEquals(32, IpRange.parse("10.0.0.1/32").prefix());
        assertEquals(128, IpRange.parse("::1/128").prefix());
    }
}
