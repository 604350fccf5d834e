package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code iothub module ...}: module identities through IoT Hub's routes {@code /devices/{id}/modules/{moduleId}}. */
final class ModuleCommands {
    static final String USAGE = """
            iothub module create <device id> <module id> [--primary-key K] [--secondary-key K]
                                      [--auth sas|selfSigned|certificateAuthority]
                                      [--primary-thumbprint T] [--secondary-thumbprint T] [--managed-by NAME]
            iothub module show <device id> <module id>
            iothub module list <device id>
            iothub module delete <device id> <module id> [--etag E]
            iothub module connection-string <device id> <module id> [--key primary|secondary]""";
    private static final Set<String> VALUED = Set.of("primary-key", "secondary-key", "auth", "primary-thumbprint",
            "secondary-thumbprint", "managed-by", "etag", "key");

    private ModuleCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing module command (create, show, list, delete, connection-string)");
        }
        Set<String> valued = new HashSet<>(VALUED);
        valued.addAll(HubApi.OPTIONS);
        Args args = Args.parse(argv.subList(1, argv.size()), valued, Set.of("json"));
        String command = argv.get(0);
        if (!Set.of("create", "show", "list", "delete", "connection-string").contains(command)) {
            throw CliException.usage("unknown module command '" + command + "'");
        }
        String deviceId = args.positional(0, "device id");
        if (command.equals("list")) {
            args.expectPositionals(1);
        } else {
            args.positional(1, "module id");
            args.expectPositionals(2);
        }
        try (HubApi api = HubApi.connect(args)) {
            switch (command) {
                case "create" -> create(api, args, deviceId, args.positional(1, "module id"), out);
                case "show" -> printModule(api.get(path(deviceId, args.positional(1, "module id"))), out);
                case "list" -> list(api, deviceId, out);
                case "delete" -> delete(api, args, deviceId, args.positional(1, "module id"), out);
                default -> DeviceCommands.printConnectionString(api, deviceId, args.positional(1, "module id"),
                        args.option("key"), out);
            }
        }
    }

    private static String path(String deviceId, String moduleId) {
        return "/devices/" + HubApi.segment(deviceId) + "/modules/" + HubApi.segment(moduleId);
    }

    private static void create(HubApi api, Args args, String deviceId, String moduleId, Output out) {
        ObjectNode body = Json.object().put("deviceId", deviceId).put("moduleId", moduleId);
        if (args.option("managed-by") != null) {
            body.put("managedBy", args.option("managed-by"));
        }
        body.set("authentication", DeviceCommands.authentication(args));
        printModule(api.call("PUT", path(deviceId, moduleId), body, null, Map.of()).json(), out);
    }

    private static void list(HubApi api, String deviceId, Output out) {
        JsonNode all = api.get("/devices/" + HubApi.segment(deviceId) + "/modules");
        if (out.isJson()) {
            out.json(all);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        for (JsonNode m : all) {
            rows.add(new String[]{m.path("moduleId").asText(), m.path("connectionState").asText(),
                    m.at("/authentication/type").asText(), m.path("lastActivityTime").asText()});
        }
        out.table(new String[]{"MODULE ID", "CONNECTION", "AUTH", "LAST ACTIVITY"}, rows);
        out.line(all.size() + " module" + (all.size() == 1 ? "" : "s") + " of device " + deviceId);
    }

    private static void delete(HubApi api, Args args, String deviceId, String moduleId, Output out) {
        String etag = args.option("etag");
        api.call("DELETE", path(deviceId, moduleId), null, etag == null ? "*" : etag, Map.of());
        if (out.isJson()) {
            out.json(Json.object().put("deviceId", deviceId).put("moduleId", moduleId).put("deleted", true));
        } else {
            out.line("deleted module " + moduleId + " of device " + deviceId);
        }
    }

    private static void printModule(JsonNode m, Output out) {
        if (out.isJson()) {
            out.json(m);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"deviceId", m.path("deviceId").asText()});
        rows.add(new String[]{"moduleId", m.path("moduleId").asText()});
        if (m.path("managedBy").isTextual()) {
            rows.add(new String[]{"managedBy", m.path("managedBy").asText()});
        }
        rows.add(new String[]{"connectionState", m.path("connectionState").asText() + " since "
                + m.path("connectionStateUpdatedTime").asText()});
        rows.add(new String[]{"lastActivityTime", m.path("lastActivityTime").asText()});
        DeviceCommands.addAuthenticationRows(m, rows);
        rows.add(new String[]{"etag", m.path("etag").asText()});
        rows.add(new String[]{"generationId", m.path("generationId").asText()});
        out.fields(rows);
    }
}
