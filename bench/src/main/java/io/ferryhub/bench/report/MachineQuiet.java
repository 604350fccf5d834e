package io.ferryhub.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Waits until the machine is idle before a path is measured, from the CPU time of all processes (/proc/stat): what a
 * previous phase left behind (a peer still closing a thousand connections, a JVM still collecting) must not run
 * during the next path's measurement.
 */
public final class MachineQuiet {
    private static final Path STAT = Path.of("/proc/stat");

    private MachineQuiet() {
    }

    /**
     * Blocks until the machine's busy cores, averaged over one second, stay under {@code maxBusyCores} for
     * {@code quietSeconds} seconds in a row, or {@code timeoutSeconds} passed.
     *
     * @return the seconds waited (negative when it timed out)
     */
    public static double await(double maxBusyCores, int quietSeconds, int timeoutSeconds)
            throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + timeoutSeconds * 1_000_000_000L;
        int quiet = 0;
        long[] before = busyAndTotal();
        while (System.nanoTime() < deadline) {
            Thread.sleep(1000);
            long[] after = busyAndTotal();
            if (before == null || after == null) {
                return 0;
            }
            long total = after[1] - before[1];
            double busyCores = total <= 0 ? 0
                    : (double) (after[0] - before[0]) / total * Runtime.getRuntime().availableProcessors();
            before = after;
            quiet = busyCores < maxBusyCores ? quiet + 1 : 0;
            if (quiet >= quietSeconds) {
                return (System.nanoTime() - start) / 1e9;
            }
        }
        return -(System.nanoTime() - start) / 1e9;
    }

    /** {busy ticks, all ticks} of the "cpu" line, or null where there is no /proc/stat. */
    private static long[] busyAndTotal() {
        try {
            String[] f = Files.readAllLines(STAT).get(0).trim().split("\\s+");
            long total = 0;
            // user nice system idle iowait irq softirq steal (guest time is already in user)
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            return new long[]{total - idle, total};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
