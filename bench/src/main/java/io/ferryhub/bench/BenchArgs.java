package io.ferryhub.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options of a benchmark: {@code --name value} pairs. Every option read (with its default) is kept so
 * the report can state the exact settings a run used.
 */
public final class BenchArgs {
    private final Map<String, String> given = new LinkedHashMap<>();
    private final Map<String, Object> used = new LinkedHashMap<>();

    public BenchArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "': options are --name value");
            }
            int eq = arg.indexOf('=');
            if (eq > 0) {
                given.put(arg.substring(2, eq), arg.substring(eq + 1));
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                given.put(arg.substring(2), args[++i]);
            } else {
                given.put(arg.substring(2), "true");
            }
        }
    }

    public int intValue(String name, int defaultValue) {
        int value = given.containsKey(name) ? Integer.parseInt(given.get(name)) : defaultValue;
        used.put(name, value);
        return value;
    }

    public long longValue(String name, long defaultValue) {
        long value = given.containsKey(name) ? Long.parseLong(given.get(name)) : defaultValue;
        used.put(name, value);
        return value;
    }

    public String string(String name, String defaultValue) {
        String value = given.getOrDefault(name, defaultValue);
        used.put(name, value);
        return value;
    }

    public boolean flag(String name, boolean defaultValue) {
        boolean value = given.containsKey(name) ? Boolean.parseBoolean(given.get(name)) : defaultValue;
        used.put(name, value);
        return value;
    }

    /** Every option the benchmark read, with the value it used (given or default). */
    public Map<String, Object> settings() {
        return used;
    }

    /** Options given on the command line that no benchmark code read: most likely typos. */
    public Map<String, String> unknown() {
        Map<String, String> unknown = new LinkedHashMap<>(given);
        unknown.keySet().removeAll(used.keySet());
        return unknown;
    }
}
