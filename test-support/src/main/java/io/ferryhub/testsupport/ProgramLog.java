package io.ferryhub.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * A long-running program's log as a user sees it: the program runs in a process of its own and its stderr is read
 * line by line until it logs that it started. For the tests that check what every program's log looks like.
 */
public final class ProgramLog {
    /** A log line as the programs write it: ISO-8601 date-time with milliseconds and offset, thread, level. */
    public static final Pattern TIMESTAMPED = Pattern.compile(
            "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) \\[[^]]+] (INFO|WARN|ERROR) .+");

    private ProgramLog() {
    }

    /**
     * Starts {@code program}, returns the lines it logged on stderr up to and including the first one containing
     * {@code started}, and stops it. Fails if it exits before, or does not log that within {@code limit}.
     */
    public static List<String> untilStarted(ProcessBuilder program, String started, Duration limit)
            throws IOException, InterruptedException {
        Process process = program.start();
        List<String> lines = new ArrayList<>();
        try {
            CompletableFuture<Void> logged = CompletableFuture.runAsync(() -> {
                try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = err.readLine()) != null) {
                        synchronized (lines) {
                            lines.add(line);
                        }
                        if (line.contains(started)) {
                            return;
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                throw new AssertionError("exited without logging that it started: " + lines);
            });
            logged.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("reading its log failed", e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("did not log '" + started + "' within " + limit.toMillis() + " ms: " + lines);
        } finally {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }
}
