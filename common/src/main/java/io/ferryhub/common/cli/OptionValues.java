package io.ferryhub.common.cli;

import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Reads the values of the launchers' command-line options (device proxy, service proxy, stand-alone gateway), so
 * they all accept the same forms and reject bad ones with the same one-line reasons.
 */
public final class OptionValues {
    private OptionValues() {
    }

    /** The value after option {@code args[i - 1]}. */
    public static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    /** A TCP port, 0 (any free port) included. */
    public static int port(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a port number: '" + text + "'");
        }
    }

    /** {@code [HOST:]PORT}; without a host, {@code defaultHost}. */
    public static InetSocketAddress address(String text, String defaultHost) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            return new InetSocketAddress(defaultHost, port(text));
        }
        return new InetSocketAddress(text.substring(0, colon), port(text.substring(colon + 1)));
    }

    /** A non-negative number of seconds, fractions allowed (millisecond precision). */
    public static Duration seconds(String option, String text) {
        try {
            BigDecimal s = new BigDecimal(text);
            if (s.signum() < 0) {
                throw new NumberFormatException();
            }
            return Duration.ofMillis(s.movePointRight(3).longValue());
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(option + " wants a number of seconds, got '" + text + "'");
        }
    }

    /** A non-negative whole number. */
    public static long count(String option, String text) {
        try {
            long n = Long.parseLong(text);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " wants a non-negative number, got '" + text + "'");
        }
    }
}
