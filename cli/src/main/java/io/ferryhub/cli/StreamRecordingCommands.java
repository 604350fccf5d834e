package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.gateway.StreamRecording;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.signaling.StreamToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code iothub stream recording list|show|extract}: the stream recordings in a hub's data directory, read from
 * the files (no running hub needed).
 */
final class StreamRecordingCommands {
    private static final int PREVIEW = 48;
    private static final Set<String> OPTIONS = HubApi.optionsWith("direction", "out", "channel");

    private StreamRecordingCommands() {
    }

    static void run(List<String> argv, Output out) {
        if (argv.isEmpty()) {
            throw CliException.usage("missing stream recording command (list, show, extract)\n"
                    + StreamCommands.USAGE);
        }
        Args args = Args.parse(argv.subList(1, argv.size()), OPTIONS, Set.of("json"));
        switch (argv.get(0)) {
            case "list" -> list(args, out);
            case "show" -> show(args, out);
            case "extract" -> extract(args, out);
            default -> throw CliException.usage("unknown stream recording command '" + argv.get(0) + "'\n"
                    + StreamCommands.USAGE);
        }
    }

    private static void list(Args args, Output out) {
        args.expectPositionals(0);
        Path dir = Path.of(args.option("data-dir") == null ? "data" : args.option("data-dir"))
                .resolve(HubServer.RECORDINGS_DIR);
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> listed = Files.list(dir)) {
                listed.filter(p -> p.toString().endsWith(StreamRecording.SUFFIX)).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new CliException("cannot list " + dir + ": " + e.getMessage());
            }
        }
        List<String[]> rows = new ArrayList<>();
        ArrayNode json = Json.MAPPER.createArrayNode();
        for (Path f : files) {
            StreamRecording.Contents c;
            try {
                c = StreamRecording.read(f);
            } catch (IOException e) {
                rows.add(new String[] {f.getFileName().toString(), "(unreadable: " + e.getMessage() + ")", "", "", "",
                        "", ""});
                continue;
            }
            long[] bytes = {c.bytes(StreamRecording.FIRST_TO_SECOND).length,
                    c.bytes(StreamRecording.SECOND_TO_FIRST).length};
            ObjectNode row = json.addObject().put("file", f.toString());
            row.setAll((ObjectNode) c.header());
            row.put("bytesFirstToSecond", bytes[0]).put("bytesSecondToFirst", bytes[1]);
            String fromDevice = "?";
            String fromService = "?";
            if (c.firstSide() != null) {
                long deviceSent = bytes[c.sentBy(StreamToken.Side.DEVICE)];
                long serviceSent = bytes[c.sentBy(StreamToken.Side.SERVICE)];
                row.put("bytesDeviceToService", deviceSent).put("bytesServiceToDevice", serviceSent);
                fromDevice = Long.toString(deviceSent);
                fromService = Long.toString(serviceSent);
            }
            rows.add(new String[] {f.getFileName().toString(), identity(c.header()),
                    c.header().path("streamName").asText(), c.header().path("initiator").asText(),
                    c.header().path("start").asText(), fromDevice, fromService});
        }
        if (out.isJson()) {
            out.json(json);
        } else if (rows.isEmpty()) {
            out.line("no recordings in " + dir);
        } else {
            // "?": a recording made before recordings said which end is which
            out.table(new String[] {"FILE", "DEVICE", "NAME", "BY", "START (UTC)", "BYTES FROM DEVICE",
                "BYTES FROM SERVICE"}, rows);
        }
    }

    /** The header, then one line per message: time, direction, size and a printable preview. */
    private static void show(Args args, Output out) {
        args.expectPositionals(1);
        StreamRecording.Contents c = read(Path.of(args.positional(0, "recording file")));
        if (out.isJson()) {
            out.json(c.header());
            return;
        }
        if ("tunnel".equals(c.header().path("mode").asText())) {
            out.line("tunnel channels (extract one with --channel N): " + c.tunnelChannels());
        }
        out.line("stream " + c.header().path("streamId").asText() + " '" + c.header().path("streamName").asText()
                + "' of " + identity(c.header()) + " by " + c.header().path("initiator").asText() + ", "
                + c.header().path("mode").asText() + " mode, started " + c.header().path("start").asText()
                + (c.firstSide() == null ? "; which end is which is not recorded (1 connected first)" : ""));
        String[] arrows = c.firstSide() == null ? new String[] {"1->2", "2->1"}
                : c.firstSide() == StreamToken.Side.DEVICE ? new String[] {"device->service", "service->device"}
                : new String[] {"service->device", "device->service"};
        for (StreamRecording.Entry e : c.entries()) {
            out.line(String.format(Locale.ROOT, "%12.6f s  %-15s  %7d bytes  %s", e.micros() / 1e6,
                    arrows[e.direction()], e.bytes().length, preview(e.bytes())));
        }
    }

    /** Writes every byte of one direction, in order, to a file (e.g. to replay a terminal session). */
    private static void extract(Args args, Output out) {
        args.expectPositionals(1);
        String direction = args.option("direction");
        StreamToken.Side side = StreamToken.Side.ofLabel(direction);
        if (side == null && !"first".equals(direction) && !"second".equals(direction)) {
            throw CliException.usage("--direction device (what the device sent) or service is required "
                    + "(first or second, by order of connection, for recordings that do not say which is which)");
        }
        if (args.option("out") == null) {
            throw CliException.usage("--out FILE is required");
        }
        StreamRecording.Contents c = read(Path.of(args.positional(0, "recording file")));
        int way = side != null ? c.sentBy(side)
                : direction.equals("first") ? StreamRecording.FIRST_TO_SECOND : StreamRecording.SECOND_TO_FIRST;
        if (way < 0) {
            throw new CliException("this recording does not say which end is the " + direction
                    + " (made by an older hub): use --direction first or second (by order of connection)");
        }
        byte[] bytes;
        if (args.option("channel") != null) {
            long channel = args.intOption("channel", 0);
            if (!c.tunnelChannels().containsKey(channel)) {
                throw new CliException("no tunnel channel " + channel + " in this recording (channels: "
                        + c.tunnelChannels() + ")");
            }
            bytes = c.tunnelChannelBytes(way, channel);
        } else {
            bytes = c.bytes(way);
        }
        try {
            Files.write(Path.of(args.option("out")), bytes);
        } catch (IOException e) {
            throw new CliException("cannot write " + args.option("out") + ": " + e.getMessage());
        }
        out.line(bytes.length + " bytes sent by the " + direction + " end written to " + args.option("out"));
    }

    private static StreamRecording.Contents read(Path file) {
        try {
            return StreamRecording.read(file);
        } catch (IOException e) {
            throw new CliException(e.getMessage());
        }
    }

    private static String identity(JsonNode header) {
        return header.path("deviceId").asText()
                + (header.path("moduleId").isTextual() ? "/" + header.path("moduleId").asText() : "");
    }

    private static String preview(byte[] bytes) {
        String text = new String(bytes, 0, Math.min(PREVIEW, bytes.length), StandardCharsets.ISO_8859_1);
        StringBuilder s = new StringBuilder();
        for (char ch : text.toCharArray()) {
            s.append(ch >= 0x20 && ch < 0x7f ? ch : '.');
        }
        return s + (bytes.length > PREVIEW ? "..." : "");
    }
}
