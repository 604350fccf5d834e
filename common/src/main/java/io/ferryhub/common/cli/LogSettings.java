package io.ferryhub.common.cli;

/**
 * The programs' slf4j-simple settings, as system properties a program's {@code main} sets before its first logger
 * exists. A setting given on the command line ({@code -Dorg.slf4j.simpleLogger...}) wins.
 */
public final class LogSettings {
    /** ISO-8601 date and time with milliseconds and the offset: 2026-12-07T21:14:03.512Z, ...T22:14:03.512+01:00. */
    public static final String DATE_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private LogSettings() {
    }

    /** Long-running programs: every log line starts with its date and time. */
    public static void timestamped() {
        setUnlessGiven("showDateTime", "true");
        setUnlessGiven("dateTimeFormat", DATE_TIME_FORMAT);
    }

    /** Command-line tools, which print results, not logs: no log line at all. */
    public static void silent() {
        setUnlessGiven("defaultLogLevel", "off");
    }

    /** A logger whose INFO lines are details the program's user does not need: WARN and above only. */
    public static void warnOnly(String logger) {
        setUnlessGiven("log." + logger, "warn");
    }

    private static void setUnlessGiven(String name, String value) {
        if (System.getProperty(PREFIX + name) == null) {
            System.setProperty(PREFIX + name, value);
        }
    }
}
