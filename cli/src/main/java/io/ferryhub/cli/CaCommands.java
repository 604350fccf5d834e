package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code iothub ca ...}: certificate authorities for X.509 devices, registered with proof of possession: add the CA,
 * get a verification code, sign a certificate with CN = code with the CA's key, verify.
 */
final class CaCommands {
    static final String USAGE = """
            iothub ca add <name> <ca-cert.pem>             registers a CA (unverified) and prints its verification code
            iothub ca verification-code <name>             issues a new verification code
            iothub ca verify <name> <proof-cert.pem>       proof: a certificate signed by the CA with CN = the code
            iothub ca list | show <name> | delete <name>""";

    private CaCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing ca command\n" + USAGE);
        }
        Set<String> valued = new HashSet<>(HubApi.OPTIONS);
        Args args = Args.parse(argv.subList(1, argv.size()), valued, Set.of("json"));
        String command = argv.get(0);
        try (HubApi api = HubApi.connect(args)) {
            switch (command) {
                case "add" -> {
                    String name = args.positional(0, "CA name");
                    String pem = readPem(args.positional(1, "CA certificate file"));
                    args.expectPositionals(2);
                    api.call("PUT", path(name), Json.object().put("certificate", pem), null, Map.of());
                    print(api.call("POST", path(name) + "/generateVerificationCode", null, null, Map.of()).json(),
                            out);
                }
                case "verification-code" -> print(api.call("POST", path(name(args)) + "/generateVerificationCode",
                        null, null, Map.of()).json(), out);
                case "verify" -> {
                    String name = args.positional(0, "CA name");
                    String pem = readPem(args.positional(1, "verification certificate file"));
                    args.expectPositionals(2);
                    print(api.call("POST", path(name) + "/verify", Json.object().put("certificate", pem), null,
                            Map.of()).json(), out);
                }
                case "show" -> print(api.get(path(name(args))), out);
                case "list" -> list(api, args, out);
                case "delete" -> {
                    String name = name(args);
                    api.call("DELETE", path(name), null, "*", Map.of());
                    if (out.isJson()) {
                        out.json(Json.object().put("name", name).put("deleted", true));
                    } else {
                        out.line("deleted CA certificate " + name);
                    }
                }
                default -> throw CliException.usage("unknown ca command '" + command + "'\n" + USAGE);
            }
        }
    }

    private static String name(Args args) {
        String name = args.positional(0, "CA name");
        args.expectPositionals(1);
        return name;
    }

    private static String path(String name) {
        return "/certificates/" + HubApi.segment(name);
    }

    private static String readPem(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static void list(HubApi api, Args args, Output out) {
        args.expectPositionals(0);
        JsonNode all = api.get("/certificates").path("value");
        if (out.isJson()) {
            out.json(all);
            return;
        }
        List<String[]> rows = new ArrayList<>();
        for (JsonNode c : all) {
            rows.add(new String[]{c.path("name").asText(), c.at("/properties/isVerified").asBoolean() ? "verified"
                    : "unverified", c.at("/properties/subject").asText(), c.at("/properties/expiry").asText()});
        }
        out.table(new String[]{"NAME", "STATUS", "SUBJECT", "EXPIRES"}, rows);
    }

    private static void print(JsonNode c, Output out) {
        if (out.isJson()) {
            out.json(c);
            return;
        }
        JsonNode p = c.path("properties");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"name", c.path("name").asText()});
        rows.add(new String[]{"subject", p.path("subject").asText()});
        rows.add(new String[]{"thumbprint", p.path("thumbprint").asText()});
        rows.add(new String[]{"expiry", p.path("expiry").asText()});
        rows.add(new String[]{"verified", p.path("isVerified").asText()});
        if (p.hasNonNull("verificationCode")) {
            rows.add(new String[]{"verificationCode", p.path("verificationCode").asText()});
        }
        out.fields(rows);
        if (p.hasNonNull("verificationCode")) {
            out.line("Next: sign a certificate with subject CN=" + p.path("verificationCode").asText()
                    + " with the CA's key, then: iothub ca verify " + c.path("name").asText() + " proof.pem");
        }
    }
}
