package io.ferryhub.bench.report;

import java.nio.file.Path;
import java.util.List;

/**
 * The machine's load average (1, 5 and 15 minutes, from {@code /proc/loadavg}), recorded with each figure: on a
 * machine shared with other work it says how far a figure is the code's and how far the machine's.
 */
public final class LoadAverage {
    private LoadAverage() {
    }

    /** "1m 5m 15m", e.g. "1.15 1.07 1.32", or "unknown" off Linux. */
    public static String read() {
        List<String> lines = MachineFacts.lines(Path.of("/proc/loadavg"));
        if (lines.isEmpty()) {
            return "unknown";
        }
        String[] fields = lines.get(0).trim().split("\\s+");
        return fields.length < 3 ? "unknown" : fields[0] + " " + fields[1] + " " + fields[2];
    }
}
