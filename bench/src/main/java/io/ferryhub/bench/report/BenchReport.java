package io.ferryhub.bench.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * The JSON result of one benchmark run: the command, the machine, the settings, the figures, the ratios against the
 * baseline measured in the same run, and notes on what limits the figures. Printed and written to a file.
 */
public final class BenchReport {
    private static final Logger log = LoggerFactory.getLogger(BenchReport.class);
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC);

    private final String benchmark;
    private final Instant started = Instant.now();
    private final ObjectNode root = Json.object();
    private final ObjectNode results;
    private final ObjectNode ratios;
    private final ArrayNode notes;

    public BenchReport(String benchmark, String command, Map<String, Object> settings) {
        this.benchmark = benchmark;
        root.put("benchmark", benchmark);
        root.put("command", command);
        root.put("startedAt", started.toString());
        root.set("machine", MachineFacts.collect());
        root.set("settings", Json.MAPPER.valueToTree(settings));
        results = root.putObject("results");
        ratios = root.putObject("ratios");
        notes = root.putArray("notes");
    }

    /** The figures of one measured configuration (e.g. "mosquitto", "hub-fsync-on"). */
    public ObjectNode result(String name) {
        return results.has(name) ? (ObjectNode) results.get(name) : results.putObject(name);
    }

    public void ratio(String name, double value, String meaning) {
        ObjectNode node = ratios.putObject(name);
        node.put("value", Math.round(value * 1000.0) / 1000.0);
        node.put("meaning", meaning);
    }

    public void note(String text) {
        notes.add(text);
    }

    public JsonNode json() {
        return root;
    }

    /** Writes {@code {dir}/{benchmark}-{time}.json} and prints the report; returns the file. */
    public Path write(Path dir) {
        root.put("finishedAt", Instant.now().toString());
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(benchmark + "-" + FILE_TIME.format(started) + ".json");
            String text = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root);
            Files.writeString(file, text + "\n");
            System.out.println(text);
            log.info("results written to {}", file);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results to " + dir, e);
        }
    }
}
