package io.ferryhub.bench.process;

import io.ferryhub.bench.report.ProcessFacts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A process the benchmark starts and measures (the hub, Mosquitto, stunnel): its output goes to a log file, its
 * memory is read from /proc, and it is always stopped when the benchmark ends, killed if it does not stop in time.
 */
public final class ChildProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private final String name;
    private final Process process;
    private final Path logFile;

    private ChildProcess(String name, Process process, Path logFile) {
        this.name = name;
        this.process = process;
        this.logFile = logFile;
    }

    /** Starts {@code command} in {@code workDir} with stdout and stderr in {@code logFile}. */
    public static ChildProcess start(String name, List<String> command, Path workDir, Path logFile)
            throws IOException {
        return start(name, command, java.util.Map.of(), workDir, logFile);
    }

    /** As {@link #start(String, List, Path, Path)}, with extra environment variables (e.g. secrets). */
    public static ChildProcess start(String name, List<String> command, java.util.Map<String, String> environment,
                                     Path workDir, Path logFile) throws IOException {
        Files.createDirectories(logFile.getParent());
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(environment);
        Process process = builder
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .start();
        log.info("started {} (pid {}): {}", name, process.pid(), String.join(" ", command));
        ChildProcess child = new ChildProcess(name, process, logFile);
        // the benchmark may be interrupted; never leave a broker or a hub running behind it
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "stop-" + name));
        return child;
    }

    public long pid() {
        return process.pid();
    }

    public String name() {
        return name;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long rssBytes() {
        return ProcessFacts.rssBytes(process.pid());
    }

    public long peakRssBytes() {
        return ProcessFacts.peakRssBytes(process.pid());
    }

    public Path logFile() {
        return logFile;
    }

    /**
     * Waits until the log has a line matching {@code pattern} and returns its match, failing when the process dies
     * or the time runs out. Re-reads the whole log each time: logs of start-up are small.
     */
    public Matcher awaitLogLine(Pattern pattern, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(logFile)) {
                Matcher m = pattern.matcher(line);
                if (m.find()) {
                    return m;
                }
            }
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " before logging /" + pattern
                        + "/; see " + logFile);
            }
            Thread.sleep(50);
        }
        throw new IOException(name + " did not log /" + pattern + "/ within " + timeout.toSeconds() + " s; see "
                + logFile);
    }

    /** Waits until a TCP connection to {@code port} on loopback succeeds. */
    public void awaitPort(int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + "; see " + logFile);
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IOException(name + " did not open port " + port + " within " + timeout.toSeconds() + " s");
    }

    /** Stops the process (SIGTERM), killing it if it has not exited within the grace period. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
                log.warn("{} (pid {}) did not stop within {} s; killing it", name, pid(), STOP_GRACE.toSeconds());
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        log.info("{} stopped", name);
    }

    /** A free TCP port on loopback (bound and released; the child binds it moments later). */
    public static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
