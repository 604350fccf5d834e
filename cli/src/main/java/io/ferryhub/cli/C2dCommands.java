package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.common.json.Json;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code iothub c2d ...}: cloud-to-device messages through the hub's REST API. IoT Hub sends them over AMQP; the
 * hub also takes them on its own REST route, which this uses.
 */
final class C2dCommands {
    static final String USAGE = """
            iothub c2d send <device> <message> [--ack none|positive|negative|full] [--message-id ID]
                                               [--correlation-id ID] [--ttl SECONDS] [--property NAME=VALUE]...
            iothub c2d purge <device>
            iothub c2d feedback [--wait SECONDS]""";
    private static final Set<String> VALUED = Set.of("ack", "message-id", "correlation-id", "ttl", "property",
            "wait");

    private C2dCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing c2d command\n" + USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), Args.union(HubApi.OPTIONS, VALUED), Set.of("json"));
        switch (argv.get(0)) {
            case "send" -> send(args, out);
            case "purge" -> purge(args, out);
            case "feedback" -> feedback(args, out);
            default -> throw CliException.usage("unknown c2d command '" + argv.get(0) + "'\n" + USAGE);
        }
    }

    private static void send(Args args, Output out) {
        String device = args.positional(0, "device id");
        String message = args.positional(1, "message");
        args.expectPositionals(2);
        Map<String, String> headers = new LinkedHashMap<>();
        putIfSet(headers, "iothub-ack", args.option("ack"));
        putIfSet(headers, "iothub-messageid", args.option("message-id"));
        putIfSet(headers, "iothub-correlationid", args.option("correlation-id"));
        if (args.option("ttl") != null) {
            headers.put("iothub-expiry", Instant.now().plusSeconds(args.intOption("ttl", 0)).toString());
        }
        for (String property : args.options("property")) {
            int eq = property.indexOf('=');
            if (eq <= 0) {
                throw CliException.usage("--property must be NAME=VALUE, not '" + property + "'");
            }
            headers.put("iothub-app-" + property.substring(0, eq), property.substring(eq + 1));
        }
        headers.put("Content-Type", "application/octet-stream");
        try (HubApi api = HubApi.connect(args)) {
            JsonNode sent = api.send("POST", "/devices/" + HubApi.segment(device) + "/messages/deviceBound",
                    message.getBytes(StandardCharsets.UTF_8), headers).json();
            if (out.isJson()) {
                out.json(sent);
            } else {
                out.line("queued message " + sent.path("messageId").asText() + " for " + device + " (sequence "
                        + sent.path("sequenceNumber").asLong() + ", expires " + sent.path("expiryTimeUtc").asText()
                        + ")");
            }
        }
    }

    private static void putIfSet(Map<String, String> headers, String name, String value) {
        if (value != null) {
            headers.put(name, value);
        }
    }

    private static void purge(Args args, Output out) {
        String device = args.positional(0, "device id");
        args.expectPositionals(1);
        try (HubApi api = HubApi.connect(args)) {
            JsonNode result = api.send("DELETE", "/devices/" + HubApi.segment(device) + "/commands", null, Map.of())
                    .json();
            if (out.isJson()) {
                out.json(result);
            } else {
                out.line("purged " + result.path("totalMessagesPurged").asInt() + " messages queued for " + device);
            }
        }
    }

    /** Prints the feedback records waiting now (or arriving within {@code --wait}) and completes them. */
    private static void feedback(Args args, Output out) {
        args.expectPositionals(0);
        Instant until = Instant.now().plus(Duration.ofSeconds(args.intOption("wait", 0)));
        List<String[]> rows = new ArrayList<>();
        ArrayNode all = Json.MAPPER.createArrayNode();
        try (HubApi api = HubApi.connect(args)) {
            while (true) {
                HttpResult batch = api.send("GET", "/messages/serviceBound/feedback", null, Map.of());
                if (batch.status() == 204) {
                    if (!all.isEmpty() || Instant.now().isAfter(until)) {
                        break;
                    }
                    sleepBriefly();
                    continue;
                }
                for (JsonNode record : batch.json()) {
                    all.add(record);
                    rows.add(new String[]{record.path("originalMessageId").asText(),
                            record.path("deviceId").asText(), record.path("statusCode").asText(),
                            record.path("enqueuedTimeUtc").asText()});
                }
                String lockToken = batch.header("ETag").replace("\"", "");
                api.send("DELETE", "/messages/serviceBound/feedback/" + HubApi.segment(lockToken), null, Map.of());
            }
        }
        if (out.isJson()) {
            out.json(all);
        } else if (rows.isEmpty()) {
            out.line("no feedback");
        } else {
            out.table(new String[]{"MESSAGE ID", "DEVICE", "STATUS", "TIME"}, rows);
        }
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }
}
