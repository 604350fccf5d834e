package io.ferryhub.bench.twins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.bench.BenchArgs;
import io.ferryhub.bench.hub.HubRestClient;
import io.ferryhub.bench.mqtt.DeviceCredentials;
import io.ferryhub.bench.mqtt.MqttConnector;
import io.ferryhub.bench.mqtt.MqttDevice;
import io.ferryhub.bench.process.HubProcess;
import io.ferryhub.bench.report.BenchReport;
import io.ferryhub.bench.report.LatencyRecorder;
import io.ferryhub.bench.report.LatencySummary;
import io.ferryhub.bench.tls.BenchClientTls;
import io.ferryhub.client.http.HttpResult;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Twins, direct methods and queries (issue "twins, methods, query"): on one hub child process,
 * <ol>
 *   <li>registers {@code --twins} devices ({@code PUT /devices/{id}}, keys chosen here) and
 *       gives each twin tags with {@code PATCH /twins/{id}} at {@code --concurrency}: twin updates/s;</li>
 *   <li>reads random twins ({@code GET /twins/{id}}) for {@code --seconds}: twin reads/s;</li>
 *   <li>queries the whole fleet: an equality on a tag (index), its COUNT(), all its pages, and a COUNT() that has to
 *       scan every twin;</li>
 *   <li>connects {@code --devices} of them over MQTT, answering every method at once, and calls methods
 *       ({@code POST /twins/{id}/methods}) for {@code --seconds}: round-trip p50/p99 and calls/s.</li>
 * </ol>
 * Rates are compared with IoT Hub's S3 throttles per unit: twin updates 250/s, twin reads 500/s, methods 24 MB/s
 * (metered in 4 KB units).
 */
public final class TwinsBench {
    private static final Logger log = LoggerFactory.getLogger(TwinsBench.class);
    private static final String API = HubRestClient.API_VERSION;
    /** Tag values: each building holds twins / BUILDINGS twins. */
    private static final int BUILDINGS = 1000;

    private final int twins;
    private final int devices;
    private final int concurrency;
    private final int seconds;
    private final int payloadBytes;
    private final Path runDir;
    private final Path resultsDir;
    private final HubProcess.Launcher launcher;
    private final BenchReport report;

    public TwinsBench(BenchArgs args, String command, Path runDir, Path resultsDir) {
        this.twins = args.intValue("twins", 1_000_000);
        this.devices = args.intValue("devices", 1000);
        this.concurrency = args.intValue("concurrency", 64);
        this.seconds = args.intValue("seconds", 20);
        this.payloadBytes = args.intValue("payload-bytes", 64);
        this.runDir = runDir;
        this.resultsDir = resultsDir;
        this.launcher = HubProcess.Launcher.fromArgs(args);
        this.report = new BenchReport("twins", command, args.settings());
        if (devices > twins) {
            throw new IllegalArgumentException("--devices must not exceed --twins");
        }
    }

    static String deviceId(int i) {
        return String.format("bench-twin-%07d", i);
    }

    /** The device's SAS key, derived from its index so the generator needs no table of a million keys. */
    static String key(int i) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("bench-twin-key-" + i).getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path run() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ObjectNode result = report.result("hub");
        try (HubProcess hub = HubProcess.start(launcher, runDir.resolve("data"), true, runDir.resolve("hub.log"),
                Duration.ofMinutes(2)); HubRestClient rest = new HubRestClient(hub, group)) {
            register(rest, result);
            updateTwins(rest, result);
            readTwins(rest, result);
            queries(rest, result);
            methods(hub, rest, group, result);
            result.put("hubPeakRssBytes", hub.process().peakRssBytes());
        } finally {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        report.note("Every request goes through the full REST path (TLS, SAS check, JSON); twin updates are durable "
                + "(fsynced, group-committed) before the answer. Load generator and hub share the machine's cores.");
        report.note("IoT Hub S3 throttles per unit: twin updates 250/s, twin reads 500/s, direct methods 24 MB/s "
                + "metered in 4 KB units (so at most 6,144 calls/s of up to 4 KB per unit).");
        return report.write(resultsDir);
    }

    private void register(HubRestClient rest, ObjectNode result) throws Exception {
        long start = System.nanoTime();
        runAll(twins, concurrency, i -> {
            ObjectNode device = Json.object().put("deviceId", deviceId(i));
            device.putObject("authentication").put("type", "sas").putObject("symmetricKey")
                    .put("primaryKey", key(i)).put("secondaryKey", key(-1 - i));
            return rest.send("PUT", "/devices/" + deviceId(i) + "?" + API, Json.toBytes(device),
                    Duration.ofMinutes(1));
        }, "devices registered");
        double elapsed = (System.nanoTime() - start) / 1e9;
        result.put("devicesRegistered", twins);
        result.put("registrationSeconds", elapsed);
        result.put("registrationsPerSecond", Math.round(twins / elapsed));
    }

    private void updateTwins(HubRestClient rest, ObjectNode result) throws Exception {
        LatencyRecorder latency = new LatencyRecorder(1_000_000);
        long start = System.nanoTime();
        runAll(twins, concurrency, i -> {
            String patch = "{\"tags\":{\"building\":\"b" + i % BUILDINGS + "\",\"floor\":" + i % 50
                    + "},\"properties\":{\"desired\":{\"interval\":" + i % 60 + "}}}";
            long sent = System.nanoTime();
            return rest.send("PATCH", "/twins/" + deviceId(i) + "?" + API, patch.getBytes(StandardCharsets.UTF_8),
                    Duration.ofMinutes(1)).whenComplete((r, e) -> latency.record(System.nanoTime() - sent));
        }, "twins updated");
        double elapsed = (System.nanoTime() - start) / 1e9;
        double rate = twins / elapsed;
        ObjectNode updates = result.putObject("twinUpdates");
        updates.put("count", twins);
        updates.put("perSecond", Math.round(rate));
        updates.set("latency", latency.summary().toJson());
        report.ratio("twinUpdatesPerSecond/S3unit", rate / 250, "PATCH /twins/{id} per second over IoT Hub S3's "
                + "250 twin updates/s per unit");
    }

    private void readTwins(HubRestClient rest, ObjectNode result) throws Exception {
        LatencyRecorder latency = new LatencyRecorder(2_000_000);
        long count = forDuration(latency, () -> rest.send("GET", "/twins/" + deviceId(
                ThreadLocalRandom.current().nextInt(twins)) + "?" + API, null, Duration.ofMinutes(1)));
        double rate = count / (double) seconds;
        ObjectNode reads = result.putObject("twinReads");
        reads.put("count", count);
        reads.put("perSecond", Math.round(rate));
        reads.set("latency", latency.summary().toJson());
        report.ratio("twinReadsPerSecond/S3unit", rate / 500, "GET /twins/{id} per second over IoT Hub S3's 500 "
                + "twin reads/s per unit");
    }

    private void queries(HubRestClient rest, ObjectNode result) throws Exception {
        ObjectNode q = result.putObject("queries");
        q.put("twins", twins);
        String building = "b17";
        long expected = twins / BUILDINGS + (17 < twins % BUILDINGS ? 1 : 0);
        q.put("matchesPerBuilding", expected);
        timeQuery(rest, q, "equalityFirstPage", "SELECT * FROM devices WHERE tags.building = '" + building + "'",
                100, 20);
        timeQuery(rest, q, "equalityCount", "SELECT COUNT() AS n FROM devices WHERE tags.building = '"
                + building + "'", 100, 20);
        timeQuery(rest, q, "equalityAndRangeFirstPage", "SELECT * FROM devices WHERE tags.building = '" + building
                + "' AND tags.floor < 25", 100, 20);
        long start = System.nanoTime();
        long all = 0;
        String continuation = null;
        do {
            HttpResult page = query(rest, "SELECT * FROM devices WHERE tags.building = 'b18'", 1000, continuation);
            all += page.json().size();
            continuation = page.header("x-ms-continuation");
        } while (continuation != null && !continuation.isEmpty());
        q.put("equalityAllPagesMs", (System.nanoTime() - start) / 1e6);
        q.put("equalityAllPagesResults", all);
        timeQuery(rest, q, "indexedOrCount", "SELECT COUNT() AS n FROM devices WHERE tags.floor = 7 OR "
                + "properties.desired.interval = 3", 100, 5);
        // a range is not in the equality index: every twin is read and evaluated
        timeQuery(rest, q, "scanCount", "SELECT COUNT() AS n FROM devices WHERE tags.floor < 3", 100, 1);
    }

    private void timeQuery(HubRestClient rest, ObjectNode out, String name, String query, int pageSize, int runs)
            throws Exception {
        LatencyRecorder latency = new LatencyRecorder(runs);
        HttpResult last = null;
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            last = query(rest, query, pageSize, null);
            latency.record(System.nanoTime() - start);
        }
        LatencySummary summary = latency.summary();
        ObjectNode entry = out.putObject(name);
        entry.put("query", query);
        entry.put("runs", runs);
        entry.put("p50Ms", summary.p50Ms());
        entry.put("maxMs", summary.maxMs());
        entry.put("resultsOnFirstPage", last.json().size());
        if (last.json().size() == 1 && last.json().get(0).has("n")) {
            entry.put("count", last.json().get(0).get("n").asLong());
        }
        log.info("query {}: p50 {} ms ({})", name, String.format(Locale.ROOT, "%.1f", summary.p50Ms()), query);
    }

    private static HttpResult query(HubRestClient rest, String query, int pageSize, String continuation)
            throws Exception {
        ObjectNode body = Json.object().put("query", query);
        Map<String, String> headers = new HashMap<>();
        headers.put("x-ms-max-item-count", Integer.toString(pageSize));
        if (continuation != null) {
            headers.put("x-ms-continuation", continuation);
        }
        HttpResult result = rest.send("POST", "/devices/query?" + API, Json.toBytes(body), headers,
                Duration.ofMinutes(5)).get(6, TimeUnit.MINUTES);
        if (!result.isSuccess()) {
            throw new IllegalStateException("query failed: " + result.errorReason());
        }
        return result;
    }

    private void methods(HubProcess hub, HubRestClient rest, EventLoopGroup group, ObjectNode result)
            throws Exception {
        MqttConnector connector = new MqttConnector(group, BenchClientTls.trusting(hub.caCertificate()),
                hub.hostName(), new InetSocketAddress("127.0.0.1", hub.mqttPort()), 64);
        Instant expiry = Instant.now().plus(Duration.ofHours(2));
        List<MqttDevice> connected = connector.connect(0, devices, i -> new DeviceCredentials(deviceId(i),
                hub.hostName() + "/" + deviceId(i) + "/?api-version=2021-04-12",
                SasToken.create(hub.hostName() + "/devices/" + deviceId(i), key(i), null, expiry),
                "devices/" + deviceId(i) + "/messages/events/"), List.of("127.0.0.1"), 60, Duration.ofMinutes(3));
        try {
            connected.forEach(MqttDevice::answerMethods);
            Thread.sleep(2000); // subscriptions settle
            String payload = "\"" + "x".repeat(Math.max(0, payloadBytes - 2)) + "\"";
            LatencyRecorder latency = new LatencyRecorder(2_000_000);
            AtomicLong failures = new AtomicLong();
            long count = forDuration(latency, () -> {
                String body = "{\"methodName\":\"ping\",\"responseTimeoutInSeconds\":30,\"payload\":" + payload + "}";
                return rest.send("POST", "/twins/" + deviceId(ThreadLocalRandom.current().nextInt(devices))
                                + "/methods?" + API, body.getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(1))
                        .whenComplete((r, e) -> {
                            if (e != null || !r.isSuccess()) {
                                failures.incrementAndGet();
                            }
                        });
            });
            double rate = count / (double) seconds;
            ObjectNode m = result.putObject("methods");
            m.put("connectedDevices", devices);
            m.put("payloadBytes", payloadBytes);
            m.put("calls", count);
            m.put("failures", failures.get());
            m.put("callsPerSecond", Math.round(rate));
            m.set("roundTrip", latency.summary().toJson());
            // IoT Hub meters request and response in 4 KB units: a small call costs 2 units of 4 KB
            double meteredBytesPerSecond = rate * 2 * 4096;
            m.put("meteredBytesPerSecond", Math.round(meteredBytesPerSecond));
            report.ratio("methodMeteredBytesPerSecond/S3unit", meteredBytesPerSecond / (24.0 * 1024 * 1024),
                    "direct-method traffic as IoT Hub meters it (request + response, 4 KB units) over S3's 24 MB/s "
                            + "per unit");
        } finally {
            connector.closeAll(connected);
        }
    }

    /** Runs {@code count} requests with at most {@code parallel} in flight; fails on the first failed answer. */
    private static void runAll(int count, int parallel, IntFunction<CompletableFuture<HttpResult>> request,
                               String progress) throws Exception {
        Semaphore slots = new Semaphore(parallel);
        AtomicLong failed = new AtomicLong();
        StringBuilder firstError = new StringBuilder();
        int step = Math.max(1, count / 10);
        for (int i = 0; i < count; i++) {
            slots.acquire();
            request.apply(i).whenComplete((r, e) -> {
                if (e != null || !r.isSuccess()) {
                    if (failed.incrementAndGet() == 1) {
                        synchronized (firstError) {
                            firstError.append(e != null ? e.toString() : r.errorReason());
                        }
                    }
                }
                slots.release();
            });
            if ((i + 1) % step == 0) {
                log.info("{}: {} of {}", progress, i + 1, count);
            }
            if (failed.get() > 0) {
                throw new IllegalStateException(progress + ": a request failed: " + firstError);
            }
        }
        slots.acquire(parallel);
        if (failed.get() > 0) {
            throw new IllegalStateException(progress + ": a request failed: " + firstError);
        }
    }

    /** Keeps {@code concurrency} requests in flight for {@code seconds}; returns how many completed in that time. */
    private long forDuration(LatencyRecorder latency, Supplier<CompletableFuture<HttpResult>> call)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong completed = new AtomicLong();
        Semaphore done = new Semaphore(0);
        for (int w = 0; w < concurrency; w++) {
            loop(call, latency, completed, deadline, done);
        }
        done.acquire(concurrency);
        return completed.get();
    }

    private static void loop(Supplier<CompletableFuture<HttpResult>> call, LatencyRecorder latency,
                             AtomicLong completed, long deadline, Semaphore done) {
        if (System.nanoTime() >= deadline) {
            done.release();
            return;
        }
        long sent = System.nanoTime();
        call.get().whenComplete((r, e) -> {
            long now = System.nanoTime();
            if (now < deadline) {
                latency.record(now - sent);
                completed.incrementAndGet();
            }
            loop(call, latency, completed, deadline, done);
        });
    }
}
