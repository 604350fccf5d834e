package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code iothub stream ...}: the device streams the hub's gateway relays right now, and closing one. */
final class StreamCommands {
    static final String USAGE = """
            iothub stream list
            iothub stream close <streamId>
            iothub stream policy show <deviceId> [--module M]
            iothub stream policy set <deviceId> [--module M] (--file policy.json | '<json>')
            iothub stream policy clear <deviceId> [--module M]
            iothub stream recording list [--data-dir DIR]
            iothub stream recording show <file>
            iothub stream recording extract <file> --direction device|service [--channel N] --out FILE""";

    private StreamCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing stream command\n" + USAGE);
        }
        if (argv.get(0).equals("policy")) {
            StreamPolicyCommands.run(argv.subList(1, argv.size()), out);
            return;
        }
        if (argv.get(0).equals("recording")) {
            StreamRecordingCommands.run(argv.subList(1, argv.size()), out);
            return;
        }
        Args args = Args.parse(argv.subList(1, argv.size()), HubApi.OPTIONS, Set.of("json"));
        switch (argv.get(0)) {
            case "list" -> list(args, out);
            case "close" -> close(args, out);
            default -> throw CliException.usage("unknown stream command '" + argv.get(0) + "'\n" + USAGE);
        }
    }

    private static void list(Args args, Output out) {
        args.expectPositionals(0);
        try (HubApi api = HubApi.connect(args)) {
            JsonNode streams = api.get("/streams");
            if (out.isJson()) {
                out.json(streams);
                return;
            }
            List<String[]> rows = new ArrayList<>();
            for (JsonNode s : streams) {
                String identity = s.path("deviceId").asText()
                        + (s.path("moduleId").isTextual() ? "/" + s.path("moduleId").asText() : "");
                // a stand-alone gateway of an older hub may not know which end is the device: "-"
                rows.add(new String[]{s.path("streamId").asText(), identity, s.path("streamName").asText(),
                        s.path("initiatedBy").asText(), s.path("state").asText(), s.path("openedUtc").asText(),
                        s.path("bytesDeviceToService").asText("-"), s.path("bytesServiceToDevice").asText("-")});
            }
            out.table(new String[]{"STREAM", "DEVICE", "NAME", "BY", "STATE", "OPENED (UTC)", "FROM DEVICE",
                    "FROM SERVICE"}, rows);
        }
    }

    private static void close(Args args, Output out) {
        args.expectPositionals(1);
        String streamId = args.positional(0, "stream id");
        try (HubApi api = HubApi.connect(args)) {
            api.call("DELETE", "/streams/" + HubApi.segment(streamId), null, null, Map.of());
            out.line("closed stream " + streamId);
        }
    }
}
