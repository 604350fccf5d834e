package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code iothub stream policy show|set|clear}: a device's or module's stream policy. */
final class StreamPolicyCommands {
    private static final Set<String> OPTIONS = HubApi.optionsWith("module", "file");

    private StreamPolicyCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing stream policy command (show, set, clear)\n" + StreamCommands.USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), OPTIONS, Set.of("json"));
        switch (argv.get(0)) {
            case "show" -> show(args, out);
            case "set" -> set(args, out);
            case "clear" -> clear(args, out);
            default -> throw CliException.usage("unknown stream policy command '" + argv.get(0) + "'\n"
                    + StreamCommands.USAGE);
        }
    }

    private static String path(Args args) {
        String device = args.positional(0, "device id");
        String module = args.option("module");
        return "/ferryhub/devices/" + HubApi.segment(device)
                + (module == null ? "" : "/modules/" + HubApi.segment(module)) + "/streamPolicy";
    }

    private static String who(Args args) {
        return args.positional(0, "device id") + (args.option("module") == null ? "" : "/" + args.option("module"));
    }

    private static void show(Args args, Output out) {
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            print(who(args), api.get(path(args)), out);
        }
    }

    private static void set(Args args, Output out) {
        String text;
        if (args.option("file") != null) {
            args.expectPositionals(1);
            try {
                text = Files.readString(Path.of(args.option("file")));
            } catch (IOException e) {
                throw new CliException("cannot read " + args.option("file") + ": " + e.getMessage());
            }
        } else {
            args.expectPositionals(2);
            text = args.positional(1, "policy JSON");
        }
        JsonNode policy;
        try {
            policy = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException("the policy is not valid JSON: " + e.getMessage());
        }
        try (HubApi api = HubApi.connect(args)) {
            print(who(args), api.call("PUT", path(args), policy, null, Map.of()).json(), out);
        }
    }

    private static void clear(Args args, Output out) {
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            api.call("DELETE", path(args), null, null, Map.of());
            out.line("stream policy of " + who(args) + " cleared: every stream is allowed again");
        }
    }

    private static void print(String who, JsonNode policy, Output out) {
        if (out.isJson()) {
            out.json(policy);
            return;
        }
        out.line("stream policy of " + who + ": " + policy.path("rules").size() + " rule(s), recording "
                + (policy.path("record").asBoolean() ? "on" : "off")
                + (policy.path("rules").isEmpty() ? " (every stream is denied)" : ""));
        List<String[]> rows = new ArrayList<>();
        for (JsonNode rule : policy.path("rules")) {
            JsonNode hours = rule.path("hours");
            rows.add(new String[] {rule.path("name").asText(), list(rule.get("policies")), list(rule.get("streams")),
                    list(rule.get("targets")), hours.isMissingNode() ? "always"
                    : list(hours.get("days")) + " " + hours.path("from").asText() + "-" + hours.path("to").asText()
                    + " " + hours.path("timeZone").asText()});
        }
        if (!rows.isEmpty()) {
            out.table(new String[] {"RULE", "POLICIES", "STREAMS", "TARGETS", "HOURS"}, rows);
        }
    }

    private static String list(JsonNode values) {
        if (values == null || values.isNull()) {
            return "any";
        }
        List<String> out = new ArrayList<>();
        values.forEach(v -> out.add(v.asText()));
        return String.join(",", out);
    }
}
