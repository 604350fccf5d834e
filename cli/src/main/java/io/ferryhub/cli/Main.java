package io.ferryhub.cli;

import io.ferryhub.common.cli.LogSettings;
import io.ferryhub.common.threads.Threads;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code iothub}: starts a hub, and manages a running one through its REST API (the same API as any back-end, no
 * back door into its storage). Exit status 0 on success, 1 when the command failed, 2 for a usage error; on failure
 * stderr gets one line with the reason. {@code start} logs with timestamps; the other commands print their result
 * and log nothing unless {@code --verbose}.
 */
public final class Main {
    static final String USAGE = "usage:\n" + StartCommand.USAGE + "\n" + DeviceCommands.USAGE + "\n"
            + ModuleCommands.USAGE + "\n"
            + PolicyCommands.USAGE + "\n" + CaCommands.USAGE + "\n" + C2dCommands.USAGE + "\n"
            + MonitorEventsCommand.USAGE + "\n" + SasTokenCommand.USAGE + "\n" + StreamCommands.USAGE + "\n"
            + TwinCommands.USAGE + "\n" + IpFilterCommands.USAGE + "\n"
            + "options of the commands that talk to a running hub: --json, --data-dir DIR (default ./data),\n"
            + "  --connection-string CS (or IOTHUB_CONNECTION_STRING), --ca PEM, --url https://HOST:PORT,\n"
            + "  --verbose (the client's log lines on stderr)";
    static final String HELP_HINT = "run 'scripts/iothub --help' for the commands and their options";

    private Main() {
    }

    public static void main(String[] argv) {
        configureLogging(List.of(argv));
        Threads.logUncaughtByDefault();
        int status = run(List.of(argv), System.out, System.err);
        if (status != 0 || argv.length == 0 || !argv[0].equals("start")) {
            System.exit(status);
        }
    }

    /** Before the first logger exists: timestamps everywhere, and nothing at all from a command unless verbose. */
    private static void configureLogging(List<String> argv) {
        LogSettings.timestamped();
        boolean start = !argv.isEmpty() && argv.get(0).equals("start");
        if (!start && !argv.contains("--verbose")) {
            LogSettings.silent();
        }
    }

    static int run(List<String> argv, PrintStream stdout, PrintStream stderr) {
        try {
            if (argv.isEmpty() || argv.get(0).equals("help") || argv.get(0).equals("--help")) {
                stdout.println(USAGE);
                return argv.isEmpty() ? CliException.USAGE : 0;
            }
            List<String> rest = new ArrayList<>(argv.subList(1, argv.size()));
            boolean json = rest.remove("--json");
            rest.remove("--verbose"); // read by main, which configures logging before anything logs
            Output out = new Output(stdout, json);
            switch (argv.get(0)) {
                case "start" -> StartCommand.run(rest, out);
                case "device" -> DeviceCommands.run(rest, out);
                case "policy" -> PolicyCommands.run(rest, out);
                case "ca" -> CaCommands.run(rest, out);
                case "c2d" -> C2dCommands.run(rest, out);
                case "stream" -> StreamCommands.run(rest, out);
                case "twin" -> TwinCommands.twin(rest, out);
                case "method" -> TwinCommands.method(rest, out);
                case "query" -> TwinCommands.query(rest, out);
                case "monitor-events" -> MonitorEventsCommand.run(rest, out);
                case "generate-sas-token" -> SasTokenCommand.run(rest, out);
                case "module" -> ModuleCommands.run(rest, out);
                case "ipfilter" -> IpFilterCommands.run(rest, out);
                default -> throw CliException.usage("unknown command '" + argv.get(0) + "'");
            }
            return 0;
        } catch (CliException e) {
            String message = e.getMessage();
            int newline = message.indexOf('\n');
            String line = "iothub: " + (newline < 0 ? message : message.substring(0, newline));
            stderr.println(e.exitCode() == CliException.USAGE ? line + "; " + HELP_HINT : line);
            return e.exitCode();
        } catch (RuntimeException e) {
            // a bug, not a user error: still one line, and the stack trace for a report with --verbose
            stderr.println("iothub: unexpected error: " + e + "; run again with --verbose for the stack trace, "
                    + "and report it if it persists");
            if (argv.contains("--verbose")) {
                e.printStackTrace(stderr);
            }
            return CliException.FAILED;
        }
    }
}
