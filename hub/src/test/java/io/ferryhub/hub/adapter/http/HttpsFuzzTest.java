package io.ferryhub.hub.adapter.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.hub.adapter.amqp.AmqpWebSocketEndpoint;
import io.ferryhub.hub.adapter.mqtt.MqttWebSocketEndpoint;
import io.ferryhub.hub.adapter.websocket.StreamGatewayEndpoint;
import io.ferryhub.hub.adapter.websocket.WebSocketEndpoint;
import io.ferryhub.hub.fuzz.FuzzHub;
import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.ferryhub.hub.fuzz.LocalPeer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the HTTPS port behind TLS: Netty's HTTP/1.1 codec, the hub's body aggregation, dispatcher and REST router
 * with every route a hub registers (registry, twins, queries, methods, device messaging...), and WebSocket upgrades
 * with the frames that follow (Netty's WebSocket decoder, then MQTT or AMQP over WebSockets, or the stream gateway).
 *
 * <p>Corpora: {@code fuzz/https} (raw requests; {@code {{owner}}} becomes a valid iothubowner token after mutation,
 * so bodies reach their parsers) and {@code fuzz/websocket} (an upgrade and masked frames carrying MQTT or AMQP). The
 * documented outcomes are IoT Hub's error answers and closes. Failures: a 500 answer (a handler or parser threw
 * something the hub did not mean to), an exception that reaches the end of the pipeline, or a connection that does
 * not close after its client closed.
 */
class HttpsFuzzTest {
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3})");

    @TempDir
    static Path dir;
    private static FuzzHub fuzzHub;
    private static LocalPeer https;
    private static byte[] ownerToken;

    @BeforeAll
    static void start() throws Exception {
        fuzzHub = new FuzzHub(dir);
        ownerToken = fuzzHub.ownerToken().getBytes(StandardCharsets.US_ASCII);
        List<WebSocketEndpoint> endpoints = List.of(new AmqpWebSocketEndpoint(fuzzHub.amqp),
                new MqttWebSocketEndpoint(fuzzHub.mqtt), new StreamGatewayEndpoint(fuzzHub.hub.streamGateway()));
        HttpRequestDispatcher dispatcher = new HttpRequestDispatcher((RestRouter) fuzzHub.hub.restRoutes(), endpoints);
        https = new LocalPeer(p -> {
            p.addLast(HttpsChannelInitializer.HTTP_CODEC, new HttpServerCodec());
            p.addLast(HttpsChannelInitializer.AGGREGATOR, new BodyLimitAggregator(64 * 1024));
            p.addLast(HttpsChannelInitializer.DISPATCHER, dispatcher);
        });
    }

    @AfterAll
    static void stop() {
        if (https != null) {
            https.close();
        }
        if (fuzzHub != null) {
            fuzzHub.close();
        }
    }

    @Test
    void theCorpusIsAnsweredAsIntended() throws Exception {
        // The fuzzer only reaches the body parsers if the corpus authenticates: its requests must not all be 401s.
        int ok = 0;
        for (byte[] input : Fuzzer.forCorpus("https").corpus()) {
            LocalPeer.Exchange e = https.exchange(fuzzHub.withOwnerToken(input, ownerToken), Duration.ofSeconds(20),
                    ch -> RestRouter.requestsInFlight(ch) == 0);
            Matcher m = STATUS.matcher(new String(e.answer(), StandardCharsets.ISO_8859_1));
            while (m.find()) {
                if (m.group(1).startsWith("2")) {
                    ok++;
                }
            }
        }
        assertTrue(ok >= 5, "only " + ok + " successful answers to the corpus");
    }

    @Test
    void aMalformedWebSocketUpgradeIsRefusedWith400() throws Exception {
        // found by the WebSocket fuzzer: without Sec-WebSocket-Key the handshake threw to the dispatcher, which
        // logged a stack trace and closed the connection without an answer
        byte[] noKey = ("GET /$iothub/websocket HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        LocalPeer.Exchange e = https.exchange(noKey, Duration.ofSeconds(20), ch -> true);
        String answer = new String(e.answer(), StandardCharsets.ISO_8859_1);
        assertTrue(answer.startsWith("HTTP/1.1 400") && answer.contains("malformed WebSocket upgrade"), answer);
    }

    @Test
    void restRequestsGetIotHubAnswersNeverAServerError() throws Exception {
        Fuzzer.forCorpus("https")
                .dictionary("\r\n", ": ", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n",
                        "X-HTTP-Method-Override: PATCH\r\n", "If-Match: ", "\"*\"", "%", "%2F", "%zz", "?", "&",
                        "api-version=2021-04-12", "/devices/", "/twins/", "/modules/", "/methods", "/query",
                        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "-0", "\"$metadata\"",
                        "\"properties\"", "\"desired\"", "\"tags\"", "\"authentication\"", "\"symmetricKey\"",
                        "\"status\"", "\"etag\"", "\"importMode\"", "\\u0000")
                .run(input -> check(fuzzHub.withOwnerToken(input, ownerToken)));
    }

    @Test
    void webSocketFramesAfterAnUpgradeNeverEscapeTheHandlers() throws Exception {
        Fuzzer.forCorpus("websocket")
                .dictionary("Upgrade: websocket\r\n", "Sec-WebSocket-Protocol: mqtt\r\n",
                        "Sec-WebSocket-Protocol: AMQPWSB10\r\n", "Sec-WebSocket-Version: 13\r\n")
                .run(input -> check(fuzzHub.withOwnerToken(input, ownerToken)));
    }

    private static void check(byte[] input) throws Exception {
        LocalPeer.Exchange e = https.exchange(input, Duration.ofSeconds(4),
                ch -> RestRouter.requestsInFlight(ch) == 0);
        if (e.unhandled() != null) {
            throw new AssertionError("an exception reached the end of the pipeline", e.unhandled());
        }
        String answer = new String(e.answer(), StandardCharsets.ISO_8859_1);
        Matcher m = STATUS.matcher(answer);
        while (m.find()) {
            if (m.group(1).equals("500")) {
                throw new AssertionError("500 answer:\n" + answer.substring(m.start(),
                        Math.min(answer.length(), m.start() + 600)));
            }
        }
    }

    // ---- the corpora, written once with -Dfuzz.writeCorpus=true (then committed) --------------------------------

    @Test
    void writeCorpusWhenAsked() throws Exception {
        if (!Boolean.getBoolean("fuzz.writeCorpus")) {
            return;
        }
        Path rest = Path.of("src/test/resources/fuzz/https");
        Files.createDirectories(rest);
        String d = FuzzHub.DEVICE;
        Map<String, String> requests = Map.ofEntries(
                Map.entry("01-put-device.txt", request("PUT", "/devices/fuzz-a?api-version=2021-04-12",
                        "{\"deviceId\":\"fuzz-a\",\"status\":\"enabled\",\"authentication\":{\"type\":\"sas\","
                                + "\"symmetricKey\":{\"primaryKey\":null,\"secondaryKey\":null}},"
                                + "\"capabilities\":{\"iotEdge\":false}}")),
                Map.entry("02-get-device.txt", request("GET", "/devices/" + d + "?api-version=2021-04-12", null)),
                Map.entry("03-patch-twin.txt", request("PATCH", "/twins/" + d + "?api-version=2021-04-12",
                        "{\"tags\":{\"region\":\"eu\",\"n\":{\"x\":[1,2,{\"y\":null}]}},\"properties\":{\"desired\":"
                                + "{\"interval\":30,\"mode\":\"fast\"}}}")),
                Map.entry("04-query.txt", request("POST", "/devices/query?api-version=2021-04-12",
                        "{\"query\":\"SELECT * FROM devices WHERE tags.region = 'eu' AND properties.desired.interval"
                                + " > 10\"}")),
                Map.entry("05-bulk.txt", request("POST", "/devices?api-version=2021-04-12",
                        "[{\"id\":\"fuzz-b\",\"importMode\":\"create\",\"status\":\"enabled\"},{\"id\":\"fuzz-c\","
                                + "\"importMode\":\"delete\",\"eTag\":\"*\"}]")),
                Map.entry("06-method-offline.txt", request("POST", "/twins/" + d + "/methods?api-version=2021-04-12",
                        "{\"methodName\":\"reboot\",\"payload\":{\"a\":1},\"responseTimeoutInSeconds\":5,"
                                + "\"connectTimeoutInSeconds\":0}")),
                Map.entry("07-put-module.txt", request("PUT", "/devices/" + d + "/modules/m1?api-version=2021-04-12",
                        "{\"deviceId\":\"" + d + "\",\"moduleId\":\"m1\"}")),
                Map.entry("08-replace-twin-override.txt", "POST /twins/" + d + "?api-version=2021-04-12 HTTP/1.1\r\n"
                        + "Host: h\r\nAuthorization: {{owner}}\r\nX-HTTP-Method-Override: PATCH\r\nIf-Match: \"*\"\r\n"
                        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "e\r\n{\"tags\":{\"a\":1\r\n2\r\n}}\r\n0\r\n\r\n"),
                Map.entry("09-list-and-stats.txt", request("GET", "/devices?top=5&api-version=2021-04-12", null)
                        + request("GET", "/statistics/devices?api-version=2021-04-12", null)),
                Map.entry("10-device-telemetry.txt", "POST /devices/" + d + "/messages/events?api-version=2021-04-12"
                        + " HTTP/1.1\r\nHost: h\r\nAuthorization: " + fuzzHub.deviceToken() + "\r\n"
                        + "iothub-app-a: 1\r\nContent-Length: 5\r\n\r\nhello"),
                Map.entry("11-streams-and-policies.txt", request("GET", "/streams?api-version=2021-04-12", null)
                        + request("PUT", "/streamPolicies/p1?api-version=2021-04-12", "{\"rules\":[]}")),
                Map.entry("12-certificates.txt", request("PUT", "/certificates/ca1?api-version=2021-04-12",
                        "{\"certificate\":\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\"}")));
        for (var r : requests.entrySet()) {
            Files.writeString(rest.resolve(r.getKey()), r.getValue(), StandardCharsets.ISO_8859_1);
        }

        Path ws = Path.of("src/test/resources/fuzz/websocket");
        Files.createDirectories(ws);
        byte[] mqttConnect = Files.readAllBytes(
                Path.of("src/test/resources/fuzz/mqtt/01-connect-subscribe-publish-ping.bin"));
        byte[] amqpHeader = {'A', 'M', 'Q', 'P', 3, 1, 0, 0};
        Files.write(ws.resolve("01-mqtt.bin"), concat(upgrade("/$iothub/websocket", "mqtt"),
                frames(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(mqttConnect, 0, 40)),
                        new ContinuationWebSocketFrame(Unpooled.wrappedBuffer(mqttConnect, 40,
                                mqttConnect.length - 40)),
                        new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2})),
                        new CloseWebSocketFrame(1000, "bye"))));
        Files.write(ws.resolve("02-amqp.bin"), concat(upgrade("/$iothub/websocket", "AMQPWSB10"),
                frames(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(amqpHeader)))));
        Files.write(ws.resolve("03-stream.bin"), concat(upgrade("/twins/" + d + "/streams/ssh", null),
                frames(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 0, 0, 0, 0, 1})))));
    }

    private static String request(String method, String target, String json) {
        String head = method + " " + target + " HTTP/1.1\r\nHost: fuzz\r\nAuthorization: {{owner}}\r\n";
        if (json == null) {
            return head + "\r\n";
        }
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return head + "Content-Type: application/json; charset=utf-8\r\nContent-Length: " + body.length + "\r\n\r\n"
                + new String(body, StandardCharsets.ISO_8859_1);
    }

    private static byte[] upgrade(String path, String protocol) {
        return ("GET " + path + " HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Authorization: Bearer x\r\n"
                + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n") + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Client frames, masked as a client must send them. */
    private static byte[] frames(WebSocketFrame... frames) {
        EmbeddedChannel enc = new EmbeddedChannel(new WebSocket08FrameEncoder(true));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (WebSocketFrame f : frames) {
            enc.writeOutbound(f);
            for (ByteBuf b = enc.readOutbound(); b != null; b = enc.readOutbound()) {
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                out.writeBytes(bytes);
            }
        }
        enc.finishAndReleaseAll();
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
