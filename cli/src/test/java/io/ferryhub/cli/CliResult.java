package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.server.HubServer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What one {@code iothub} command run in-process returned and printed: the CLI tests' one way to run it. */
record CliResult(int status, String out, String err) {
    JsonNode json() {
        return Json.parse(out);
    }

    /** Runs {@code args} exactly as given. */
    static CliResult run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliResult(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a command against {@code hub}, as an operator with the hub's data directory (its owner key) would. */
    static CliResult against(HubServer hub, Path dataDir, String... argv) {
        List<String> args = new ArrayList<>(List.of(argv));
        args.addAll(List.of("--data-dir", dataDir.toString(), "--url", "https://localhost:" + hub.httpsPort()));
        return run(args);
    }
}
