package io.ferryhub.e2e;

import io.ferryhub.testsupport.Await;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What this JVM logs (slf4j-simple writes each line to the current {@code System.err}) from now until closed,
 * still passed on to the real stderr.
 */
final class LogCapture implements AutoCloseable {
    private final PrintStream original = System.err;
    private final List<String> lines = new ArrayList<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    LogCapture() {
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                take(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
    }

    private synchronized void take(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                lines.add(partial.toString(StandardCharsets.UTF_8));
                partial.reset();
            } else {
                partial.write(b[i]);
            }
        }
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** The first line logged that matches, waiting for it up to {@code limit}; fails with what was logged. */
    String await(Predicate<String> matches, String what, Duration limit) throws InterruptedException {
        String line = Await.value(limit, () -> lines().stream().filter(matches).findFirst().orElse(null));
        if (line == null) {
            throw new AssertionError("no log line " + what + "; logged:\n" + String.join("\n", lines()));
        }
        return line;
    }

    @Override
    public void close() {
        System.setErr(original);
    }
}
