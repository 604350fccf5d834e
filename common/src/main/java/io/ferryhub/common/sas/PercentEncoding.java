package io.ferryhub.common.sas;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * RFC 3986 percent-encoding as IoT Hub clients use it: everything but the unreserved characters is encoded,
 * spaces become {@code %20} (never {@code +}). {@link java.net.URLEncoder} does form encoding instead, which
 * turns spaces into {@code +} and so breaks SAS signatures and MQTT property bags.
 */
public final class PercentEncoding {
    private static final char[] UPPER_HEX = "0123456789ABCDEF".toCharArray();
    private static final char[] LOWER_HEX = "0123456789abcdef".toCharArray();

    private PercentEncoding() {
    }

    public static String encode(String value) {
        return encode(value, UPPER_HEX);
    }

    /** Lower-case hex digits: the form the IoT Hub docs describe for the signed resource URI. */
    public static String encodeLowerHex(String value) {
        return encode(value, LOWER_HEX);
    }

    private static String encode(String value, char[] hex) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (isUnreserved(c)) {
                out.append((char) c);
            } else {
                out.append('%').append(hex[c >> 4]).append(hex[c & 0xf]);
            }
        }
        return out.toString();
    }

    /**
     * Decodes {@code %XX} sequences; {@code +} becomes a space when {@code plusIsSpace} (form-encoded input, as some
     * MQTT property bags are). Malformed escapes throw {@link IllegalArgumentException}.
     */
    public static String decode(String value, boolean plusIsSpace) {
        if (value.indexOf('%') < 0 && (!plusIsSpace || value.indexOf('+') < 0)) {
            return value;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 2 >= value.length()) {
                    throw new IllegalArgumentException("truncated percent-escape in '" + value + "'");
                }
                int hi = Character.digit(value.charAt(i + 1), 16);
                int lo = Character.digit(value.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad percent-escape in '" + value + "'");
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < value.length()) {
                    bytes = value.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                out.write(bytes, 0, bytes.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public static String decode(String value) {
        return decode(value, false);
    }

    private static boolean isUnreserved(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_' || c == '.' || c == '~';
    }
}
