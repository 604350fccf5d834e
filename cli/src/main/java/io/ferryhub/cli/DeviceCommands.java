package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code iothub device ...}: the identity registry through the hub's REST API. */
final class DeviceCommands {
    static final String USAGE = """
            iothub device create <id> [--status enabled|disabled] [--primary-key K] [--secondary-key K]
                                      [--auth sas|selfSigned|certificateAuthority]
                                      [--primary-thumbprint T] [--secondary-thumbprint T] [--edge]
            iothub device show <id>
            iothub device list [--top N]
            iothub device delete <id> [--etag E]
            iothub device enable <id> [--reason TEXT]
            iothub device disable <id> [--reason TEXT]
            iothub device regenerate-key <id> [--key primary|secondary|both|swap]
            iothub device connection-string <id> [--module M] [--key primary|secondary]""";
    private static final Set<String> VALUED = Set.of("status", "primary-key", "secondary-key", "auth",
            "primary-thumbprint", "secondary-thumbprint", "top", "etag", "reason", "key", "module");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Enable, disable and re-key read, change and write back; another writer in between means retry. */
    private static final int UPDATE_ATTEMPTS = 3;

    private DeviceCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing device command\n" + USAGE);
        }
        Set<String> valued = new HashSet<>(VALUED);
        valued.addAll(HubApi.OPTIONS);
        Args args = Args.parse(argv.subList(1, argv.size()), valued, Set.of("json", "edge"));
        String command = argv.get(0);
        try (HubApi api = HubApi.connect(args)) {
            switch (command) {
                case "create" -> create(api, args, out);
                case "show" -> show(api, args, out);
                case "list" -> list(api, args, out);
                case "delete" -> delete(api, args, out);
                case "enable" -> setStatus(api, args, out, "enabled");
                case "disable" -> setStatus(api, args, out, "disabled");
                case "regenerate-key" -> regenerateKey(api, args, out);
                case "connection-string" -> connectionString(api, args, out);
                default -> throw CliException.usage("unknown device command '" + command + "'\n" + USAGE);
            }
        }
    }

    private static String id(Args args) {
        String id = args.positional(0, "device id");
        args.expectPositionals(1);
        return id;
    }

    private static String path(String id) {
        return "/devices/" + HubApi.segment(id);
    }

    private static void create(HubApi api, Args args, Output out) {
        String id = id(args);
        ObjectNode body = Json.object().put("deviceId", id);
        if (args.option("status") != null) {
            body.put("status", args.option("status"));
        }
        body.set("authentication", authentication(args));
        if (args.flag("edge")) {
            body.putObject("capabilities").put("iotEdge", true);
        }
        printDevice(api.call("PUT", path(id), body, null, Map.of()).json(), out);
    }

    /** The authentication of a new device or module from --auth, --primary-key ... --secondary-thumbprint. */
    static ObjectNode authentication(Args args) {
        ObjectNode auth = Json.object();
        String type = args.option("auth") != null ? args.option("auth")
                : args.option("primary-thumbprint") != null ? "selfSigned" : "sas";
        auth.put("type", type);
        if (args.option("primary-key") != null || args.option("secondary-key") != null) {
            auth.putObject("symmetricKey").put("primaryKey", args.option("primary-key"))
                    .put("secondaryKey", args.option("secondary-key"));
        }
        if (args.option("primary-thumbprint") != null || args.option("secondary-thumbprint") != null) {
            auth.putObject("x509Thumbprint").put("primaryThumbprint", args.option("primary-thumbprint"))
                    .put("secondaryThumbprint", args.option("secondary-thumbprint"));
        }
        return auth;
    }

    private static void show(HubApi api, Args args, Output out) {
        printDevice(api.get(path(id(args))), out);
    }

    private static void list(HubApi api, Args args, Output out) {
        args.expectPositionals(0);
        int limit = args.intOption("top", Integer.MAX_VALUE);
        if (limit < 1) {
            throw CliException.usage("--top must be at least 1");
        }
        ArrayNode all = Json.MAPPER.createArrayNode();
        String continuation = null;
        do {
            int page = Math.min(1000, limit - all.size());
            HttpResult result = api.call("GET", "/devices?top=" + page, null, null,
                    continuation == null ? Map.of() : Map.of("x-ms-continuation", continuation));
            result.json().forEach(all::add);
            continuation = result.header("x-ms-continuation");
        } while (continuation != null && all.size() < limit);
        if (out.isJson()) {
            out.json(all);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        for (JsonNode d : all) {
            rows.add(new String[]{d.path("deviceId").asText(), d.path("status").asText(),
                    d.path("connectionState").asText(), d.at("/authentication/type").asText(),
                    d.path("lastActivityTime").asText()});
        }
        out.table(new String[]{"DEVICE ID", "STATUS", "CONNECTION", "AUTH", "LAST ACTIVITY"}, rows);
        out.line(all.size() + " device" + (all.size() == 1 ? "" : "s"));
    }

    private static void delete(HubApi api, Args args, Output out) {
        String id = id(args);
        String etag = args.option("etag");
        api.call("DELETE", path(id), null, etag == null ? "*" : etag, Map.of());
        if (out.isJson()) {
            out.json(Json.object().put("deviceId", id).put("deleted", true));
        } else {
            out.line("deleted device " + id);
        }
    }

    private static void setStatus(HubApi api, Args args, Output out, String status) {
        String id = id(args);
        JsonNode updated = update(api, id, device -> {
            device.put("status", status);
            // a reason explains the status it was given with: enabling without one clears the old one
            device.put("statusReason", args.option("reason"));
        });
        printDevice(updated, out);
    }

    private static void regenerateKey(HubApi api, Args args, Output out) {
        String id = id(args);
        String which = args.option("key") == null ? "primary" : args.option("key");
        if (!Set.of("primary", "secondary", "both", "swap").contains(which)) {
            throw CliException.usage("--key must be primary, secondary, both or swap");
        }
        JsonNode updated = update(api, id, device -> {
            if (!"sas".equals(device.at("/authentication/type").asText())) {
                throw new CliException("device " + id + " authenticates with "
                        + device.at("/authentication/type").asText() + ", not SAS keys");
            }
            ObjectNode keys = device.withObject("/authentication/symmetricKey");
            String primary = keys.path("primaryKey").asText();
            String secondary = keys.path("secondaryKey").asText();
            switch (which) {
                case "primary" -> keys.put("primaryKey", newKey());
                case "secondary" -> keys.put("secondaryKey", newKey());
                case "both" -> keys.put("primaryKey", newKey()).put("secondaryKey", newKey());
                default -> keys.put("primaryKey", secondary).put("secondaryKey", primary);
            }
        });
        printDevice(updated, out);
    }

    private interface Change {
        void apply(ObjectNode device);
    }

    /** Reads the device, changes it and writes it back under its etag; retries when someone else wrote first. */
    private static JsonNode update(HubApi api, String id, Change change) {
        for (int attempt = 1; ; attempt++) {
            ObjectNode device = (ObjectNode) api.get(path(id));
            String etag = device.path("etag").asText();
            change.apply(device);
            try {
                return api.call("PUT", path(id), device, "\"" + etag + "\"", Map.of()).json();
            } catch (CliException e) {
                if (attempt >= UPDATE_ATTEMPTS || !e.getMessage().contains("PreconditionFailed")) {
                    throw e;
                }
            }
        }
    }

    private static void connectionString(HubApi api, Args args, Output out) {
        printConnectionString(api, id(args), args.option("module"), args.option("key"), out);
    }

    /** The connection string of a device, or of one of its modules, from its primary (or secondary) key. */
    static void printConnectionString(HubApi api, String id, String module, String key, Output out) {
        JsonNode identity = module == null ? api.get(path(id))
                : api.get(path(id) + "/modules/" + HubApi.segment(module));
        String type = identity.at("/authentication/type").asText();
        ConnectionString cs;
        if ("sas".equals(type)) {
            String which = key == null ? "primary" : key;
            if (!which.equals("primary") && !which.equals("secondary")) {
                throw CliException.usage("--key must be primary or secondary");
            }
            cs = ConnectionString.forDevice(api.hostName(), id, module,
                    identity.at("/authentication/symmetricKey/" + which + "Key").asText());
        } else if ("selfSigned".equals(type) || "certificateAuthority".equals(type)) {
            cs = ConnectionString.forX509Device(api.hostName(), id, module);
        } else {
            throw new CliException((module == null ? "device " : "module ") + (module == null ? id : module)
                    + " has no credentials (authentication type " + type + ")");
        }
        if (out.isJson()) {
            out.json(Json.object().put("connectionString", cs.toString()));
        } else {
            out.line(cs.toString());
        }
    }

    private static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private static void printDevice(JsonNode d, Output out) {
        if (out.isJson()) {
            out.json(d);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"deviceId", d.path("deviceId").asText()});
        rows.add(new String[]{"status", d.path("status").asText()
                + (d.path("statusReason").isTextual() ? " (" + d.path("statusReason").asText() + ")" : "")});
        rows.add(new String[]{"connectionState", d.path("connectionState").asText() + " since "
                + d.path("connectionStateUpdatedTime").asText()});
        rows.add(new String[]{"lastActivityTime", d.path("lastActivityTime").asText()});
        addAuthenticationRows(d, rows);
        rows.add(new String[]{"iotEdge", d.at("/capabilities/iotEdge").asText()});
        rows.add(new String[]{"etag", d.path("etag").asText()});
        rows.add(new String[]{"generationId", d.path("generationId").asText()});
        out.fields(rows);
    }

    /** The rows {@code show} prints for an identity's credentials (a device's or a module's). */
    static void addAuthenticationRows(JsonNode identity, List<String[]> rows) {
        String type = identity.at("/authentication/type").asText();
        rows.add(new String[]{"authentication", type});
        if ("sas".equals(type)) {
            rows.add(new String[]{"primaryKey", identity.at("/authentication/symmetricKey/primaryKey").asText()});
            rows.add(new String[]{"secondaryKey", identity.at("/authentication/symmetricKey/secondaryKey").asText()});
        } else if ("selfSigned".equals(type)) {
            rows.add(new String[]{"primaryThumbprint",
                    identity.at("/authentication/x509Thumbprint/primaryThumbprint").asText("")});
            rows.add(new String[]{"secondaryThumbprint",
                    identity.at("/authentication/x509Thumbprint/secondaryThumbprint").asText("")});
        }
    }
}
