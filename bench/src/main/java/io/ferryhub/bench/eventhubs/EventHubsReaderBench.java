package io.ferryhub.bench.eventhubs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.hub.HubEventReader;
import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.ProcessFacts;
import io.ferryhub.bench.tls.BenchClientTls;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.client.http.HubHttpClient;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.sas.EventHubsConnectionString;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Reading the built-in endpoint: {@code --events-per-partition} (25,000) events of {@code --body-bytes} (1,024,
 * a JSON body) with a message id, a content type and three application properties are written into every
 * partition first (through the HTTPS device API, in batches), then read back from the start of one partition and
 * of all partitions by a Proton-J Event Hubs reader over AMQPS (prefetch {@code --credit}, 500, as the Java
 * client's default). The baselines, in the same run on the same events: the hub's REST reader
 * ({@code GET /messages/events/partitions/{p}}, 1,000 events an answer, what {@code iothub monitor-events} uses)
 * and a raw read of the partitions' segment files (bytes only: the floor any reader pays).
 */
public final class EventHubsReaderBench {
    private static final Logger log = LoggerFactory.getLogger(EventHubsReaderBench.class);
    private static final int BATCH_EVENTS = 150;
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(10);
    private static final double MIB = 1024.0 * 1024.0;

    private final int eventsPerPartition;
    private final int bodyBytes;
    private final int credit;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public EventHubsReaderBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.eventsPerPartition = args.intValue("events-per-partition", 25_000);
        this.bodyBytes = args.intValue("body-bytes", 1024);
        this.credit = args.intValue("credit", 500);
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("eventhubs-reader", command, args.settings());
    }

    /** A read's outcome: how many events and body bytes in how long. */
    private record Measured(long events, long bodyBytes, double seconds) {
        double eventsPerSecond() {
            return events / seconds;
        }

        double mibPerSecond() {
            return bodyBytes / MIB / seconds;
        }
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        // the readers measure reading; acknowledged writes need no fsync for that
        try (HubProcess hub = HubProcess.start(launcher, runDir.resolve("data"), false, runDir.resolve("hub.log"),
                Duration.ofMinutes(2));
             HubRestClient rest = new HubRestClient(hub, group)) {
            int partitions = HubEventReader.partitionCount(rest);
            List<Integer> all = IntStream.range(0, partitions).boxed().toList();
            write(hub, rest, group, partitions);
            SSLContext tls = jdkTrusting(hub.caCertificate());
            String eventHub = EventHubsConnectionString.eventHubName(hub.hostName());

            // warm-up: the JIT of hub and reader on both paths, the page cache for all three; a shorter one left the
            // first measured read (one partition) paying for compilation: 2.5x the hub's CPU of a later same read
            readAmqp(hub, tls, eventHub, all, eventsPerPartition);
            readRest(rest, all, eventsPerPartition);

            for (List<Integer> scenario : List.of(List.of(0), all)) {
                String name = scenario.size() == 1 ? "onePartition" : "allPartitions";
                double[] cpu = cpuSeconds(hub);
                Measured amqp = readAmqp(hub, tls, eventHub, scenario, eventsPerPartition);
                double[] afterAmqp = cpuSeconds(hub);
                Measured restRead = readRest(rest, scenario, eventsPerPartition);
                double[] afterRest = cpuSeconds(hub);
                Measured raw = readRaw(hub.dataDir(), scenario, eventsPerPartition);
                put(report.result(name + "-amqp"), amqp, cpu, afterAmqp);
                put(report.result(name + "-rest"), restRead, afterAmqp, afterRest);
                put(report.result(name + "-raw-segments"), raw);
                report.ratio(name + ": amqp/rest", amqp.eventsPerSecond() / restRead.eventsPerSecond(),
                        "events/s through the AMQP built-in endpoint over events/s through the REST reader");
                report.ratio(name + ": amqp/raw", amqp.eventsPerSecond() / raw.eventsPerSecond(),
                        "events/s through the AMQP built-in endpoint over a raw read of the segment files");
                log.info("{}: amqp {} events/s ({} MiB/s), rest {} events/s, raw {} events/s", name,
                        Math.round(amqp.eventsPerSecond()), Math.round(amqp.mibPerSecond()),
                        Math.round(restRead.eventsPerSecond()), Math.round(raw.eventsPerSecond()));
            }
            report.result("hub").put("rssBytesAfterReads", hub.process().rssBytes());
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("Reader, hub and writer share the machine's cores; the AMQP reader is one single-threaded "
                + "Proton-J connection (TCP_NODELAY) with one receiver per partition, accepting each event after "
                + "decoding it.");
        report.note("hubCpuSeconds and readerCpuSeconds: CPU the hub's process and the reading process used during "
                + "that read (all their threads, JIT and GC included).");
        report.note("MiB/s counts event bodies only; the REST reader also decodes each answer's JSON and base64 bodies."
                + " The raw read counts the segment files' bytes (records with their properties), read from the page cache without"
                + " decoding.");
        return report.write(resultsDir);
    }

    /** CPU seconds used so far by the hub's process and by this one (the readers). */
    private static double[] cpuSeconds(HubProcess hub) {
        return new double[]{ProcessFacts.cpuSeconds(hub.process().pid()),
                ProcessFacts.cpuSeconds(ProcessHandle.current().pid())};
    }

    /** A read with the CPU the hub and the reader spent on it: where the time went, as a share of the wall clock. */
    private static void put(ObjectNode node, Measured m, double[] cpuBefore, double[] cpuAfter) {
        put(node, m);
        node.put("hubCpuSeconds", Math.round((cpuAfter[0] - cpuBefore[0]) * 1000) / 1000.0);
        node.put("readerCpuSeconds", Math.round((cpuAfter[1] - cpuBefore[1]) * 1000) / 1000.0);
    }

    private static void put(ObjectNode node, Measured m) {
        node.put("events", m.events());
        node.put("bodyBytes", m.bodyBytes());
        node.put("seconds", m.seconds());
        node.put("eventsPerSecond", Math.round(m.eventsPerSecond()));
        node.put("mibPerSecond", Math.round(m.mibPerSecond() * 10) / 10.0);
    }

    // ---- writing ------------------------------------------------------------------------------------------------

    /** One device per partition (the hub puts a device's messages in CRC32(id) mod partitions), batches of events. */
    private void write(HubProcess hub, HubRestClient rest, EventLoopGroup group, int partitions) throws Exception {
        String[] devices = new String[partitions];
        for (int i = 0, found = 0; found < partitions; i++) {
            String id = "bench-eh-" + i;
            CRC32 crc = new CRC32();
            crc.update(id.getBytes(StandardCharsets.UTF_8));
            int p = (int) (crc.getValue() % partitions);
            if (devices[p] == null) {
                devices[p] = id;
                found++;
            }
        }
        long start = System.nanoTime();
        try (HubHttpClient http = new HubHttpClient(URI.create("https://" + hub.hostName() + ":" + hub.httpsPort()),
                BenchClientTls.trusting(hub.caCertificate()), group)) {
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (String device : devices) {
                String key = rest.createDevice(device).get(60, TimeUnit.SECONDS);
                String token = ConnectionString.forDevice(hub.hostName(), device, null, key)
                        .sasToken(Instant.now().plus(Duration.ofHours(2)));
                writers.add(writeBatches(http, device, token, 0));
            }
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.MINUTES);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        ObjectNode written = report.result("prewrite");
        written.put("events", (long) eventsPerPartition * partitions);
        written.put("seconds", seconds);
        written.put("bodyBytes", bodyBytes);
        log.info("wrote {} events of {} bytes into {} partitions in {} s", (long) eventsPerPartition * partitions,
                bodyBytes, partitions, Math.round(seconds));
    }

    private CompletableFuture<Void> writeBatches(HubHttpClient http, String device, String token, int from) {
        if (from >= eventsPerPartition) {
            return CompletableFuture.completedFuture(null);
        }
        int to = Math.min(eventsPerPartition, from + BATCH_EVENTS);
        ArrayNode batch = Json.MAPPER.createArrayNode();
        for (int i = from; i < to; i++) {
            ObjectNode event = batch.addObject();
            event.put("body", body(device, i));
            ObjectNode properties = event.putObject("properties");
            properties.put("iothub-messageid", device + "-" + i);
            properties.put("iothub-contenttype", "application/json");
            properties.put("iothub-app-site", "plant-7");
            properties.put("iothub-app-line", Integer.toString(i % 12));
            properties.put("iothub-app-schema", "reading-v2");
        }
        return http.send("POST", "/devices/" + device + "/messages/events?" + HubRestClient.API_VERSION,
                        Map.of("Authorization", token, "Content-Type",
                                "application/vnd.microsoft.iothub.json; charset=utf-8"),
                        Json.toBytes(batch), Duration.ofSeconds(60))
                .thenCompose(result -> {
                    if (!result.isSuccess()) {
                        throw new IllegalStateException("telemetry batch of " + device + ": " + result.errorReason());
                    }
                    return writeBatches(http, device, token, to);
                });
    }

    /** A JSON reading padded to {@code bodyBytes}. */
    private String body(String device, int index) {
        StringBuilder json = new StringBuilder("{\"device\":\"").append(device).append("\",\"seq\":").append(index)
                .append(",\"temperature\":").append(20 + index % 7).append(".5,\"pad\":\"");
        while (json.length() < bodyBytes - 2) {
            json.append((char) ('a' + json.length() % 26));
        }
        return json.append("\"}").toString();
    }

    // ---- reading ------------------------------------------------------------------------------------------------

    private Measured readAmqp(HubProcess hub, SSLContext tls, String eventHub, List<Integer> partitions,
                              long perPartition) throws Exception {
        ConnectionString owner = hub.ownerConnectionString();
        long start = System.nanoTime();
        try (ProtonEventHubReader reader = new ProtonEventHubReader(tls, hub.hostName(), hub.amqpPort())) {
            reader.authorize("amqp://" + hub.hostName() + "/" + eventHub,
                    owner.sasToken(Instant.now().plus(Duration.ofHours(1))), Duration.ofSeconds(30));
            ProtonEventHubReader.Totals totals = reader.read(eventHub, "$Default", partitions, perPartition, credit,
                    READ_TIMEOUT);
            return new Measured(totals.events(), totals.bodyBytes(), (System.nanoTime() - start) / 1e9);
        }
    }

    private static Measured readRest(HubRestClient rest, List<Integer> partitions, long perPartition)
            throws Exception {
        long start = System.nanoTime();
        List<CompletableFuture<long[]>> readers = new ArrayList<>();
        for (int p : partitions) {
            readers.add(readRestPartition(rest, p, "earliest", perPartition, new long[2]));
        }
        long events = 0;
        long bytes = 0;
        for (CompletableFuture<long[]> r : readers) {
            long[] totals = r.get(READ_TIMEOUT.toMinutes(), TimeUnit.MINUTES);
            events += totals[0];
            bytes += totals[1];
        }
        return new Measured(events, bytes, (System.nanoTime() - start) / 1e9);
    }

    /** One long-poll loop, as {@code iothub monitor-events} reads: each answer's nextOffset starts the next. */
    private static CompletableFuture<long[]> readRestPartition(HubRestClient rest, int partition, String from,
                                                               long wanted, long[] totals) {
        String path = "/messages/events/partitions/" + partition + "?from=" + from + "&max=1000&waitSeconds=1&"
                + HubRestClient.API_VERSION;
        return rest.send("GET", path, null, Duration.ofSeconds(60)).thenCompose(result -> {
            if (!result.isSuccess()) {
                throw new IllegalStateException("GET " + path + ": " + result.errorReason());
            }
            JsonNode body = result.json();
            for (JsonNode event : body.path("events")) {
                if (totals[0] < wanted) {
                    totals[0]++;
                    totals[1] += Base64.getDecoder().decode(event.path("body").asText()).length;
                }
            }
            if (totals[0] >= wanted) {
                return CompletableFuture.completedFuture(totals);
            }
            return readRestPartition(rest, partition, "offset:" + body.path("nextOffset").asText(), wanted, totals);
        });
    }

    /** The partitions' segment files read sequentially, bytes only. */
    private static Measured readRaw(Path dataDir, List<Integer> partitions, long perPartition) throws IOException {
        long start = System.nanoTime();
        long bytes = 0;
        ByteBuffer buffer = ByteBuffer.allocateDirect(1024 * 1024);
        for (int p : partitions) {
            List<Path> segments;
            try (Stream<Path> files = Files.list(dataDir.resolve("events").resolve("partition-" + p))) {
                segments = files.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path segment : segments) {
                try (FileChannel channel = FileChannel.open(segment)) {
                    int n;
                    while ((n = channel.read(buffer)) > 0) {
                        bytes += n;
                        buffer.clear();
                    }
                }
            }
        }
        return new Measured(perPartition * partitions.size(), bytes, (System.nanoTime() - start) / 1e9);
    }

    private static SSLContext jdkTrusting(Path caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            trust.setCertificateEntry("hub-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return tls;
    }
}
