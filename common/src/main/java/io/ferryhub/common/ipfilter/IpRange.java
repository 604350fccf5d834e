package io.ferryhub.common.ipfilter;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address block in CIDR notation ({@code 192.168.100.0/22}, {@code 2001:db8::/32}), or a single
 * address (a /32 or /128). Parsed without name resolution: text that is not a literal address is refused, never
 * looked up. Host bits after the prefix are ignored, as IoT Hub does ({@code 6.6.6.6/6} is {@code 4.0.0.0/6}).
 */
public final class IpRange {
    private final String text;
    private final byte[] network;
    private final int prefix;

    private IpRange(String text, byte[] network, int prefix) {
        this.text = text;
        this.network = network;
        this.prefix = prefix;
    }

    /** @throws IllegalArgumentException naming what is wrong with {@code text} */
    public static IpRange parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the address range is empty; give an address or a CIDR block such as "
                    + "192.168.100.0/22 or 2001:db8::/32");
        }
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        // NetUtil parses literals only (no DNS); it takes IPv4-mapped IPv6 forms too, which match IPv4 peers
        byte[] bytes = address.length() > 45 ? null : NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null || address.indexOf('%') >= 0 || address.startsWith("[")) {
            throw new IllegalArgumentException("'" + shorten(trimmed) + "' is not an IPv4 or IPv6 address or CIDR "
                    + "block (e.g. 192.168.100.0/22, 10.0.0.1, 2001:db8::/32, ::1)");
        }
        boolean mappedV4 = bytes.length == 16 && isMappedV4(bytes);
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = trimmed.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("'" + shorten(trimmed) + "': the prefix length after '/' must be "
                        + "a number from 0 to " + bits);
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                throw new IllegalArgumentException("'" + shorten(trimmed) + "': the prefix length " + prefix
                        + " is out of range (0 to " + bits + " for an " + (bits == 32 ? "IPv4" : "IPv6")
                        + " address)");
            }
        }
        if (mappedV4 && prefix >= 96) {
            // ::ffff:10.0.0.0/104 is 10.0.0.0/8: peers connecting over IPv4 are seen as IPv4 addresses
            bytes = Arrays.copyOfRange(bytes, 12, 16);
            prefix -= 96;
        }
        return new IpRange(trimmed, mask(bytes, prefix), prefix);
    }

    private static boolean isMappedV4(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int i = 0; i < out.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            out[i] &= (byte) (0xff << (8 - keep));
        }
        return out;
    }

    private static String shorten(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    /** True when {@code address} lies in this block (an IPv4 block never holds an IPv6 address, and vice versa). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 16 && network.length == 4 && isMappedV4(a)) {
            a = Arrays.copyOfRange(a, 12, 16);
        }
        if (a.length != network.length) {
            return false;
        }
        return Arrays.equals(mask(a, prefix), network);
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    public int prefix() {
        return prefix;
    }

    /** The text it was parsed from, trimmed: what the operator wrote. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpRange r && r.prefix == prefix && Arrays.equals(r.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }
}
