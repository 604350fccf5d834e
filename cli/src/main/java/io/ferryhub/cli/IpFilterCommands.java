package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code iothub ipfilter list|add|delete|set}: the hub's IP filter (IoT Hub's {@code ipFilterRules}): ordered
 * rules, the first whose range holds a connection's address accepts or rejects it; no match accepts.
 */
final class IpFilterCommands {
    static final String USAGE = "iothub ipfilter list\n"
            + "iothub ipfilter add NAME ADDRESS|CIDR --action accept|reject [--position N]   (N from 1; default last)\n"
            + "iothub ipfilter delete NAME\n"
            + "iothub ipfilter set --file RULES.json   (replaces every rule: {\"ipFilterRules\": [{\"filterName\", "
            + "\"action\", \"ipMask\"}...]})";
    private static final String PATH = "/ferryhub/ipFilter";
    private static final Set<String> OPTIONS = HubApi.optionsWith("action", "position", "file");

    private IpFilterCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing ipfilter command (list, add, delete, set)\n" + USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), OPTIONS, Set.of("json"));
        switch (argv.get(0)) {
            case "list" -> list(args, out);
            case "add" -> add(args, out);
            case "delete" -> delete(args, out);
            case "set" -> set(args, out);
            default -> throw CliException.usage("unknown ipfilter command '" + argv.get(0) + "'\n" + USAGE);
        }
    }

    private static void list(Args args, Output out) {
        args.expectPositionals(0);
        try (HubApi api = HubApi.connect(args)) {
            print(api.get(PATH), out);
        }
    }

    private static void add(Args args, Output out) {
        args.expectPositionals(2);
        String name = args.positional(0, "rule name");
        String range = args.positional(1, "address or CIDR block");
        String action = args.option("action");
        if (action == null || !Set.of("accept", "reject").contains(action.toLowerCase(Locale.ROOT))) {
            throw CliException.usage("--action accept or --action reject is required");
        }
        ObjectNode rule = Json.object().put("filterName", name)
                .put("action", action.toLowerCase(Locale.ROOT).equals("accept") ? "Accept" : "Reject")
                .put("ipMask", range);
        if (args.option("position") != null) {
            int position = args.intOption("position", 0);
            if (position < 1) {
                throw CliException.usage("--position counts from 1 (the first rule)");
            }
            rule.put("position", position - 1);
        }
        try (HubApi api = HubApi.connect(args)) {
            JsonNode rules = api.call("POST", PATH + "/rules", rule, null, Map.of()).json();
            if (!out.isJson()) {
                out.line("rule " + name + " added; new connections are checked against it now, and open ones from "
                        + "addresses it rejects are closed");
            }
            print(rules, out);
        }
    }

    private static void delete(Args args, Output out) {
        args.expectPositionals(1);
        String name = args.positional(0, "rule name");
        try (HubApi api = HubApi.connect(args)) {
            api.call("DELETE", PATH + "/rules/" + HubApi.segment(name), null, null, Map.of());
            out.line("rule " + name + " deleted");
        }
    }

    private static void set(Args args, Output out) {
        args.expectPositionals(0);
        String file = args.option("file");
        if (file == null) {
            throw CliException.usage("--file RULES.json is required");
        }
        JsonNode rules;
        try {
            rules = Json.parse(Files.readString(Path.of(file)));
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new CliException(file + " is not valid JSON: " + e.getMessage() + "; see 'iothub ipfilter list "
                    + "--json' for the shape");
        }
        try (HubApi api = HubApi.connect(args)) {
            JsonNode now = api.call("PUT", PATH, rules, null, Map.of()).json();
            if (!out.isJson()) {
                out.line("IP filter replaced");
            }
            print(now, out);
        }
    }

    private static void print(JsonNode filter, Output out) {
        if (out.isJson()) {
            out.json(filter);
            return;
        }
        JsonNode rules = filter.path("ipFilterRules");
        if (rules.isEmpty()) {
            out.line("no IP filter rules: every address may connect");
            return;
        }
        List<String[]> rows = new ArrayList<>();
        int n = 1;
        for (JsonNode r : rules) {
            rows.add(new String[] {String.valueOf(n++), r.path("filterName").asText(), r.path("ipMask").asText(),
                    r.path("action").asText()});
        }
        out.table(new String[] {"#", "NAME", "ADDRESS RANGE", "ACTION"}, rows);
        out.line("first match decides; an address no rule matches may connect");
    }
}
