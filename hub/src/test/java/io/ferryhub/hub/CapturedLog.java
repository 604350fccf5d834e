package io.ferryhub.hub;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * What the hub logs while it is open: slf4j-simple writes each line to the current {@code System.err}, so this
 * copies System.err into memory (still passing it on) until closed.
 */
public final class CapturedLog implements AutoCloseable {
    private final PrintStream original = System.err;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    public CapturedLog() {
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                synchronized (captured) {
                    captured.write(b);
                }
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                synchronized (captured) {
                    captured.write(b, off, len);
                }
                original.write(b, off, len);
            }
        };
        System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
    }

    public String text() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits (up to 30 s) until the log holds {@code fragment}; returns the log. */
    public String awaitContaining(String fragment) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!text().contains(fragment)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the log never showed '" + fragment + "':\n" + text());
            }
            LockSupport.parkNanos(10_000_000);
        }
        return text();
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
