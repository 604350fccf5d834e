package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.sas.ConnectionString;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@code iothub policy list}: the hub's shared access policies and their connection strings. */
final class PolicyCommands {
    static final String USAGE = "iothub policy list";

    private PolicyCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty() || !argv.get(0).equals("list")) {
            throw CliException.usage((argv.isEmpty() ? "missing policy command" : "unknown policy command '"
                    + argv.get(0) + "'") + "\n" + USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), HubApi.OPTIONS, Set.of("json"));
        args.expectPositionals(0);
        try (HubApi api = HubApi.connect(args)) {
            JsonNode policies = api.get("/sharedAccessPolicies").path("value");
            if (out.isJson()) {
                out.json(policies);
                return;
            }
            List<String[]> rows = new ArrayList<>();
            for (JsonNode p : policies) {
                rows.add(new String[]{p.path("keyName").asText(), p.path("rights").asText(),
                        ConnectionString.forPolicy(api.hostName(), p.path("keyName").asText(),
                                p.path("primaryKey").asText()).toString()});
            }
            out.table(new String[]{"POLICY", "RIGHTS", "CONNECTION STRING (primary key)"}, rows);
        }
    }
}
