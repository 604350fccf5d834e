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
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The hub as a child JVM, started through its own launcher ({@code iothub start}) with the reactor's jars, so its
 * memory and CPU are its own and a restart is a real process start. Loopback only, ports chosen per run.
 */
public final class HubProcess implements AutoCloseable {
    /** The banner {@code iothub start} prints once every listener is bound, and the lines read from it. */
    private static final Pattern RUNNING = Pattern.compile("^FerryHub is running");
    private static final Pattern HOST_NAME = Pattern.compile("^\\s+host name\\s+(\\S+)");
    private static final Pattern CA_CERTIFICATE = Pattern.compile("^\\s+CA certificate\\s+(/\\S+)");
    private static final String OWNER_CONNECTION_STRING_FILE = "iothubowner.connection-string";

    private final ChildProcess process;
    private final Path dataDir;
    private final String hostName;
    private final int httpsPort;
    private final int mqttPort;
    private final int amqpPort;
    private final Path caCertificate;
    private final Duration startTime;

    private HubProcess(ChildProcess process, Path dataDir, String hostName, int httpsPort, int mqttPort,
                       int amqpPort, Path caCertificate, Duration startTime) {
        this.process = process;
        this.dataDir = dataDir;
        this.hostName = hostName;
        this.httpsPort = httpsPort;
        this.mqttPort = mqttPort;
        this.amqpPort = amqpPort;
        this.caCertificate = caCertificate;
        this.startTime = startTime;
    }

    /** The JVM flags {@code scripts/iothub} starts the hub with, relative to the repository. */
    private static final String DEFAULTS_FILE = "scripts/lib/hub-jvm-defaults";

    /** How to start a hub: the JVM, its options and the launcher jar {@code scripts/iothub} runs. */
    public record Launcher(Path java, Path jar, List<String> jvmOptions) {
        /**
         * From the benchmark's options: {@code --hub-jar} (default {@code cli/target/iothub.jar}, built with the
         * bench module), {@code --hub-jvm-defaults} (default: the flags {@code scripts/iothub} uses, from
         * {@code scripts/lib/hub-jvm-defaults}) and {@code --hub-jvm} (space-separated JVM options after them,
         * default none).
         */
        public static Launcher fromArgs(BenchArgs args) {
            List<String> options = new ArrayList<>(splitFlags(args.string("hub-jvm-defaults",
                    launcherDefaults(Path.of(DEFAULTS_FILE)))));
            options.addAll(splitFlags(args.string("hub-jvm", "")));
            return new Launcher(Path.of(System.getProperty("java.home"), "bin", "java"),
                    Path.of(args.string("hub-jar", "cli/target/iothub.jar")).toAbsolutePath(), List.copyOf(options));
        }

        /** The flags {@code scripts/iothub} gives the hub (non-comment lines of the file), "" if it is missing. */
        static String launcherDefaults(Path file) {
            try {
                return Files.readAllLines(file).stream().filter(line -> !line.startsWith("#"))
                        .collect(Collectors.joining(" ")).trim();
            } catch (IOException e) {
                return "";
            }
        }

        private static List<String> splitFlags(String flags) {
            return flags.isBlank() ? List.of() : Arrays.asList(flags.trim().split("\\s+"));
        }

        /** The directory of the hub's jars, where the proxies' jars are too. */
        public Path libDir() {
            return jar.resolveSibling("lib");
        }

        List<String> command(List<String> launcherArgs) {
            List<String> command = new ArrayList<>();
            command.add(java.toString());
            command.addAll(jvmOptions);
            command.add("-jar");
            command.add(jar.toString());
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
        return start(launcher, dataDir, fsync, List.of(), logFile, timeout);
    }

    /** As {@link #start(Launcher, Path, boolean, Path, Duration)} with further {@code iothub start} options. */
    public static HubProcess start(Launcher launcher, Path dataDir, boolean fsync, List<String> extraOptions,
                                   Path logFile, Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        int httpsPort = ChildProcess.freePort();
        int mqttPort = ChildProcess.freePort();
        int amqpPort = ChildProcess.freePort();
        List<String> args = new ArrayList<>(List.of("start",
                "--data-dir", dataDir.toAbsolutePath().toString(),
                "--bind", "127.0.0.1",
                "--https-port", Integer.toString(httpsPort),
                "--mqtt-port", Integer.toString(mqttPort),
                "--amqp-port", Integer.toString(amqpPort)));
        if (!fsync) {
            args.add("--no-fsync");
        }
        if (extraOptions.stream().noneMatch(o -> o.startsWith("--throttl"))) {
            // benchmarks measure the hub, not IoT Hub S1's rates (iothub start's default)
            args.addAll(List.of("--throttling", "off"));
        }
        args.addAll(extraOptions);
        long startNanos = System.nanoTime();
        ChildProcess process = ChildProcess.start("hub", launcher.command(args), dataDir.getParent(), logFile);
        try {
            process.awaitLogLine(RUNNING, timeout);
            Duration startTime = Duration.ofNanos(System.nanoTime() - startNanos);
            String hostName = process.awaitLogLine(HOST_NAME, Duration.ofSeconds(5)).group(1);
            Path ca = Path.of(process.awaitLogLine(CA_CERTIFICATE, Duration.ofSeconds(5)).group(1));
            return new HubProcess(process, dataDir, hostName, httpsPort, mqttPort, amqpPort, ca, startTime);
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

    public int amqpPort() {
        return amqpPort;
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
