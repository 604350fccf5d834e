package io.ferryhub.bench.report;

import java.nio.file.Path;

/** Memory and limits of a process, read from /proc (Linux). */
public final class ProcessFacts {
    private ProcessFacts() {
    }

    /** Resident set size in bytes (VmRSS), or -1 when the process is gone. */
    public static long rssBytes(long pid) {
        return statusKb(pid, "VmRSS:") * 1024;
    }

    /** Peak resident set size in bytes (VmHWM, the high-water mark), or -1 when the process is gone. */
    public static long peakRssBytes(long pid) {
        return statusKb(pid, "VmHWM:") * 1024;
    }

    /** Open file descriptors of a process. */
    public static int openFiles(long pid) {
        String[] fds = Path.of("/proc", Long.toString(pid), "fd").toFile().list();
        return fds == null ? -1 : fds.length;
    }

    /**
     * CPU time (user + system) the process has used, in seconds, or -1 when it is gone. Assumes the kernel's usual
     * 100 clock ticks per second.
     */
    public static double cpuSeconds(long pid) {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name (field 2) may contain spaces; fields after it are plain numbers
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The soft open-file limit of this process. */
    public static long openFileLimit() {
        for (String line : MachineFacts.lines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
            }
        }
        return -1;
    }

    private static long statusKb(long pid, String field) {
        for (String line : MachineFacts.lines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
