package io.ferryhub.bench.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Asks a child JVM about its heap through {@code jcmd}, to tell live objects from garbage in an RSS figure: RSS
 * counts every heap page ever touched, also by garbage not collected yet.
 */
public final class JvmDiagnostics {
    /** G1's summary line: {@code garbage-first heap   total 262144K, used 123456K}. */
    private static final Pattern HEAP = Pattern.compile("heap\\s+total (\\d+)K, used (\\d+)K");
    private static final long TIMEOUT_SECONDS = 60;

    private JvmDiagnostics() {
    }

    /** Heap sizes in bytes: committed and used, or null when jcmd is unavailable or the output is unknown. */
    public record Heap(long committedBytes, long usedBytes) {
    }

    /** Runs a full collection in the JVM, then reads its heap. */
    public static Heap heapAfterFullGc(long pid) {
        if (jcmd(pid, "GC.run") == null) {
            return null;
        }
        String info = jcmd(pid, "GC.heap_info");
        if (info == null) {
            return null;
        }
        Matcher m = HEAP.matcher(info);
        return m.find() ? new Heap(Long.parseLong(m.group(1)) * 1024, Long.parseLong(m.group(2)) * 1024) : null;
    }

    private static String jcmd(long pid, String command) {
        try {
            Process process = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true)
                    .start();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                return null;
            }
            return new String(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
