package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.EventHubsConnectionString;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code iothub policy list|show|add|delete|regenerate-key}: the hub's shared access policies, their rights and
 * connection strings. With {@code --default-eventhub}, {@code list} prints the built-in endpoint's Event
 * Hub-compatible connection strings of the policies that may read it (ServiceConnect), as {@code az iot hub
 * connection-string show --default-eventhub} prints them.
 */
final class PolicyCommands {
    static final String USAGE = """
            iothub policy list [--default-eventhub]
            iothub policy show NAME
            iothub policy add NAME --rights RIGHT[,RIGHT...]   (RegistryRead, RegistryWrite, ServiceConnect, \
            DeviceConnect; an existing policy gets these rights and keeps its keys)
            iothub policy delete NAME
            iothub policy regenerate-key NAME --key primary|secondary|swap""";
    private static final Set<String> OPTIONS = HubApi.optionsWith("rights", "key");

    private PolicyCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing policy command (list, show, add, delete, regenerate-key)\n" + USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), OPTIONS, Set.of("json", "default-eventhub"));
        switch (argv.get(0)) {
            case "list" -> list(args, out);
            case "show" -> show(args, out);
            case "add" -> add(args, out);
            case "delete" -> delete(args, out);
            case "regenerate-key" -> regenerateKey(args, out);
            default -> throw CliException.usage("unknown policy command '" + argv.get(0) + "'\n" + USAGE);
        }
    }

    private static String path(String name) {
        return "/sharedAccessPolicies/" + HubApi.segment(name);
    }

    private static void list(Args args, Output out) {
        boolean eventHubs = args.flag("default-eventhub");
        args.expectPositionals(0);
        try (HubApi api = HubApi.connect(args)) {
            JsonNode policies = api.get("/sharedAccessPolicies").path("value");
            if (out.isJson()) {
                out.json(policies);
                return;
            }
            List<String[]> rows = new ArrayList<>();
            for (JsonNode p : policies) {
                String name = p.path("keyName").asText();
                String key = p.path("primaryKey").asText();
                if (eventHubs && !p.path("rights").asText().contains("ServiceConnect")) {
                    continue;
                }
                rows.add(new String[]{name, p.path("rights").asText(), eventHubs
                        ? EventHubsConnectionString.of(api.hostName(), name, key)
                        : ConnectionString.forPolicy(api.hostName(), name, key).toString()});
            }
            out.table(new String[]{"POLICY", "RIGHTS", eventHubs ? "EVENT HUB-COMPATIBLE CONNECTION STRING (primary key)"
                    : "CONNECTION STRING (primary key)"}, rows);
        }
    }

    private static void show(Args args, Output out) {
        String name = args.positional(0, "policy name");
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            print(api, api.get(path(name)), out);
        }
    }

    private static void add(Args args, Output out) {
        String name = args.positional(0, "policy name");
        args.expectPositionals(1);
        String rights = args.option("rights");
        if (rights == null) {
            throw CliException.usage("missing --rights, e.g. --rights ServiceConnect,RegistryRead");
        }
        try (HubApi api = HubApi.connect(args)) {
            print(api, api.call("PUT", path(name), Json.object().put("rights", rights), null, Map.of()).json(), out);
        }
    }

    private static void delete(Args args, Output out) {
        String name = args.positional(0, "policy name");
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            api.call("DELETE", path(name), null, null, Map.of());
            out.line("policy " + name + " deleted: its keys no longer work, and what they had open was closed");
        }
    }

    private static void regenerateKey(Args args, Output out) {
        String name = args.positional(0, "policy name");
        args.expectPositionals(1);
        String key = args.option("key");
        if (key == null || !Set.of("primary", "secondary", "swap").contains(key)) {
            throw CliException.usage("--key must be primary, secondary or swap");
        }
        try (HubApi api = HubApi.connect(args)) {
            JsonNode policy = api.call("POST", path(name) + "/regenerateKey", Json.object().put("key", key), null,
                    Map.of()).json();
            if (!out.isJson()) {
                out.line(key.equals("swap") ? "policy " + name + ": primary and secondary keys swapped; both still work"
                        : "policy " + name + ": new " + key + " key; the old one no longer works, and what it had "
                        + "open was closed");
            }
            print(api, policy, out);
        }
    }

    private static void print(HubApi api, JsonNode p, Output out) {
        if (out.isJson()) {
            out.json(p);
            return;
        }
        String name = p.path("keyName").asText();
        out.fields(List.of(
                new String[]{"policy", name},
                new String[]{"rights", p.path("rights").asText()},
                new String[]{"primary connection string",
                        ConnectionString.forPolicy(api.hostName(), name, p.path("primaryKey").asText()).toString()},
                new String[]{"secondary connection string",
                        ConnectionString.forPolicy(api.hostName(), name, p.path("secondaryKey").asText()).toString()}));
    }
}
