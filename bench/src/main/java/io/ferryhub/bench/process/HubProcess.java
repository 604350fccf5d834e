package io.ferryhub.bench.process;

import io.ferryhub.bench.BenchArgs;
import io.ferryhub.common.sas.ConnectionString;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hub as a child JVM, started through its own launcher ({@code iothub start}) with the reactor's jars, so its
 * memory and CPU are its own and a restart is a real process start. Loopback only, ports chosen per run.
 */
public final class HubProcess implements AutoCloseable {
    /** The launcher's line once every listener is bound. */
    private static final Pattern STARTED = Pattern.compile("hub (\\S+) started: https (\\d+), CA (\\S+)");
    private static final String OWNER_CONNECTION_STRING_FILE = "iothubowner.connection-string";

    private final ChildProcess process;
    private final Path dataDir;
    private final String hostName;
    private final int httpsPort;
    private final int mqttPort;
    private final Path caCertificate;
    private final Duration startTime;

    private HubProcess(ChildProcess process, Path dataDir, String hostName, int httpsPort, int mqttPort,
                       Path caCertificate, Duration startTime) {
        this.process = process;
        this.dataDir = dataDir;
        this.hostName = hostName;
        this.httpsPort = httpsPort;
        this.mqttPort = mqttPort;
        this.caCertificate = caCertificate;
        this.startTime = startTime;
    }

    /** How to start a hub: the JVM, its class path and options, the launcher class. */
    public record Launcher(Path java, String classPath, String mainClass, List<String> jvmOptions) {
        /**
         * From the benchmark's options: {@code --hub-classpath} (default: the benchmark's own class path, which
         * holds the hub's jars), {@code --hub-main}, {@code --hub-jvm} (space-separated JVM options).
         */
        public static Launcher fromArgs(BenchArgs args) {
            String jvm = args.string("hub-jvm", "-Xms256m -XX:+UseParallelGC");
            return new Launcher(Path.of(System.getProperty("java.home"), "bin", "java"),
                    args.string("hub-classpath", System.getProperty("java.class.path")),
                    args.string("hub-main", "io.ferryhub.cli.IotHubMain"),
                    jvm.isBlank() ? List.of() : Arrays.asList(jvm.trim().split("\\s+")));
        }

        List<String> command(List<String> launcherArgs) {
            List<String> command = new ArrayList<>();
            command.add(java.toString());
            command.addAll(jvmOptions);
            command.add("-cp");
            command.add(classPath);
            command.add(mainClass);
            command.addAll(launcherArgs);
            return command;
        }
    }

    /**
     * Starts a hub on {@code dataDir} (created or reused) and waits until it serves.
     *
     * @param fsync false only for the benchmarks that compare against it: acknowledged telemetry may then be lost
     */
    public static HubProcess start(Launcher launcher, Path dataDir, boolean fsync, Path logFile, Duration timeout)
            throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        int httpsPort = ChildProcess.freePort();
        int mqttPort = ChildProcess.freePort();
        List<String> args = new ArrayList<>(List.of("start",
                "--data-dir", dataDir.toAbsolutePath().toString(),
                "--bind-address", "127.0.0.1",
                "--https-port", Integer.toString(httpsPort),
                "--mqtt-port", Integer.toString(mqttPort),
                "--amqp-port", "0"));
        if (!fsync) {
            args.add("--no-fsync");
        }
        long startNanos = System.nanoTime();
        ChildProcess process = ChildProcess.start("hub", launcher.command(args), dataDir.getParent(), logFile);
        try {
            Matcher started = process.awaitLogLine(STARTED, timeout);
            Duration startTime = Duration.ofNanos(System.nanoTime() - startNanos);
            process.awaitPort(mqttPort, Duration.ofSeconds(10));
            return new HubProcess(process, dataDir, started.group(1), Integer.parseInt(started.group(2)), mqttPort,
                    Path.of(started.group(3)), startTime);
        } catch (IOException | InterruptedException | RuntimeException e) {
            process.close();
            throw e;
        }
    }

    public ConnectionString ownerConnectionString() throws IOException {
        return ConnectionString.parse(Files.readString(dataDir.resolve(OWNER_CONNECTION_STRING_FILE)).trim());
    }

    public String hostName() {
        return hostName;
    }

    public int httpsPort() {
        return httpsPort;
    }

    public int mqttPort() {
        return mqttPort;
    }

    public Path caCertificate() {
        return caCertificate;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** From the process start to the launcher's "started" line: JVM start, storage recovery, listeners bound. */
    public Duration startTime() {
        return startTime;
    }

    public ChildProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.close();
    }
}
