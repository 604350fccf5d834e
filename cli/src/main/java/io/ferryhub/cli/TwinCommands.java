package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code iothub twin ...}, {@code iothub method invoke} and {@code iothub query}: device management through IoT
 * Hub's twin, direct method and query REST APIs.
 */
final class TwinCommands {
    static final String USAGE = """
            iothub twin show <device> [--module M]
            iothub twin update <device> [--module M] '<patch JSON>'|@file [--etag E]    (merge tags / desired)
            iothub twin replace <device> [--module M] '<twin JSON>'|@file [--etag E]    (replace tags and desired)
            iothub method invoke <device> [--module M] <method> [--payload JSON] [--response-timeout S]
                                                                [--connect-timeout S]
            iothub query "SELECT ... FROM devices ..." [--page-size N]""";
    private static final Set<String> VALUED = Set.of("module", "etag", "payload", "response-timeout",
            "connect-timeout", "page-size");

    private TwinCommands() {
    }

    static void twin(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing twin command\n" + USAGE);
        }
        Args args = parse(argv.subList(1, argv.size()));
        switch (argv.get(0)) {
            case "show" -> show(args, out);
            case "update" -> write(args, out, "PATCH");
            case "replace" -> write(args, out, "PUT");
            default -> throw CliException.usage("unknown twin command '" + argv.get(0) + "'\n" + USAGE);
        }
    }

    static void method(List<String> argv, Output out) {
        if (argv.isEmpty() || !argv.get(0).equals("invoke")) {
            throw CliException.usage("the method command is 'method invoke'\n" + USAGE);
        }
        Args args = parse(argv.subList(1, argv.size()));
        String device = args.positional(0, "device id");
        String method = args.positional(1, "method name");
        args.expectPositionals(2);
        ObjectNode body = Json.object().put("methodName", method);
        if (args.option("payload") != null) {
            body.set("payload", parseJson(args.option("payload"), "--payload"));
        }
        if (args.option("response-timeout") != null) {
            body.put("responseTimeoutInSeconds", args.intOption("response-timeout", 30));
        }
        if (args.option("connect-timeout") != null) {
            body.put("connectTimeoutInSeconds", args.intOption("connect-timeout", 0));
        }
        try (HubApi api = HubApi.connect(args)) {
            JsonNode result = api.call("POST", twinPath(device, args.option("module")) + "/methods", body, null,
                    Map.of()).json();
            if (out.isJson()) {
                out.json(result);
            } else {
                out.line("status " + result.path("status").asInt() + ": " + Json.toString(result.get("payload")));
            }
        }
    }

    static void query(List<String> argv, Output out) {
        Args args = parse(argv);
        String query = args.positional(0, "query");
        args.expectPositionals(1);
        int pageSize = args.intOption("page-size", 100);
        ArrayNode all = Json.MAPPER.createArrayNode();
        try (HubApi api = HubApi.connect(args)) {
            String continuation = null;
            do {
                Map<String, String> headers = new HashMap<>();
                headers.put("x-ms-max-item-count", Integer.toString(pageSize));
                if (continuation != null) {
                    headers.put("x-ms-continuation", continuation);
                }
                HttpResult page = api.call("POST", "/devices/query", Json.object().put("query", query), null,
                        headers);
                page.json().forEach(all::add);
                continuation = page.header("x-ms-continuation");
            } while (continuation != null && !continuation.isEmpty());
        }
        if (out.isJson()) {
            out.json(all);
            return;
        }
        if (!all.isEmpty() && all.get(0).has("properties") && all.get(0).has("deviceId")) {
            List<String[]> rows = new ArrayList<>();
            for (JsonNode t : all) {
                rows.add(new String[]{t.path("deviceId").asText(), t.path("moduleId").asText(""),
                        t.path("status").asText(""), t.path("connectionState").asText(),
                        t.path("version").asText()});
            }
            out.table(new String[]{"DEVICE", "MODULE", "STATUS", "CONNECTION", "TWIN VERSION"}, rows);
        } else {
            all.forEach(item -> out.line(Json.toString(item)));
        }
        out.line(all.size() + (all.size() == 1 ? " result" : " results"));
    }

    private static void show(Args args, Output out) {
        String device = args.positional(0, "device id");
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            out.json(api.get(twinPath(device, args.option("module"))));
        }
    }

    private static void write(Args args, Output out, String method) {
        String device = args.positional(0, "device id");
        JsonNode body = parseJson(args.positional(1, "twin JSON"), "the twin JSON");
        args.expectPositionals(2);
        try (HubApi api = HubApi.connect(args)) {
            JsonNode twin = api.call(method, twinPath(device, args.option("module")), body, args.option("etag"),
                    Map.of()).json();
            if (out.isJson()) {
                out.json(twin);
            } else {
                out.line("twin of " + device + (args.option("module") == null ? "" : "/" + args.option("module"))
                        + (method.equals("PUT") ? " replaced" : " updated") + ": version "
                        + twin.path("version").asLong() + ", desired $version "
                        + twin.path("properties").path("desired").path("$version").asLong() + ", etag "
                        + twin.path("etag").asText());
            }
        }
    }

    private static String twinPath(String device, String module) {
        return "/twins/" + HubApi.segment(device) + (module == null ? "" : "/modules/" + HubApi.segment(module));
    }

    /** JSON given inline, or {@code @file} to read it from a file. */
    private static JsonNode parseJson(String text, String what) {
        String json = text;
        if (text.startsWith("@")) {
            try {
                json = Files.readString(Path.of(text.substring(1)));
            } catch (IOException e) {
                throw new CliException("cannot read " + text.substring(1) + ": " + e.getMessage());
            }
        }
        try {
            return Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw CliException.usage(what + " is not valid JSON: " + e.getMessage());
        }
    }

    private static Args parse(List<String> argv) {
        Set<String> valued = new HashSet<>(HubApi.OPTIONS);
        valued.addAll(VALUED);
        return Args.parse(argv, valued, Set.of("json"));
    }
}
