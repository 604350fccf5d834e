package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.EventHubsConnectionString;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code iothub policy list}: the hub's shared access policies and their connection strings; with
 * {@code --default-eventhub}, the built-in endpoint's Event Hub-compatible connection strings of the policies that
 * may read it (ServiceConnect), as {@code az iot hub connection-string show --default-eventhub} prints them.
 */
final class PolicyCommands {
    static final String USAGE = "iothub policy list [--default-eventhub]";

    private PolicyCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty() || !argv.get(0).equals("list")) {
            throw CliException.usage((argv.isEmpty() ? "missing policy command" : "unknown policy command '"
                    + argv.get(0) + "'") + "\n" + USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), HubApi.OPTIONS, Set.of("json", "default-eventhub"));
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
}
