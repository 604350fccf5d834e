package io.ferryhub.hub.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.HubTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.1 pipelining on one raw TLS connection: every answer comes back in the order of its request, however long
 * an earlier request takes to be answered.
 */
class RestPipeliningTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    record Response(int status, Map<String, String> headers, String body) {
        JsonNode json() {
            return Json.parse(body);
        }
    }

    @Test
    void answersLeaveInRequestOrderBehindASlowMethodCall() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "slow-dev");
             SSLSocket socket = connect()) {
            device.subscribe("$iothub/methods/POST/#");
            String token = HubTestSupport.ownerToken(hub);
            OutputStream out = socket.getOutputStream();
            // three requests in one write: a method call the device answers late, then two quick ones
            out.write((request("POST", "/twins/slow-dev/methods", token,
                    "{\"methodName\":\"slow\",\"payload\":{\"n\":1},\"responseTimeoutInSeconds\":60}")
                    + request("PUT", "/devices/made-while-waiting", token, "{\"deviceId\":\"made-while-waiting\"}")
                    + request("GET", "/twins/slow-dev", token, null)).getBytes(StandardCharsets.UTF_8));
            out.flush();

            PahoDevice.Received call = device.next();
            assertTrue(call.topic().startsWith("$iothub/methods/POST/slow/?$rid="), call.topic());
            // the PUT behind the method call has been served (its answer is ready) before the device answers
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (hub.registry().findDevice("made-while-waiting").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the pipelined PUT was not served");
                LockSupport.parkNanos(5_000_000);
            }
            String rid = call.topic().substring(call.topic().indexOf("?$rid=") + 6);
            device.publish("$iothub/methods/res/200/?$rid=" + rid, "{\"answer\":\"late\"}");

            InputStream in = socket.getInputStream();
            Response first = read(in);
            assertEquals(200, first.status(), first.body());
            assertEquals(200, first.json().get("status").asInt(), first.body());
            assertEquals("late", first.json().at("/payload/answer").asText(), first.body());
            Response second = read(in);
            assertEquals(200, second.status(), second.body());
            assertEquals("made-while-waiting", second.json().get("deviceId").asText(), second.body());
            Response third = read(in);
            assertEquals(200, third.status(), third.body());
            assertEquals("slow-dev", third.json().get("deviceId").asText(), third.body());
            assertTrue(third.json().has("properties"), third.body());
        }
    }

    @Test
    void errorsAnsweredAtOnceWaitTheirTurnToo() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "slow-dev-2");
             SSLSocket socket = connect()) {
            device.subscribe("$iothub/methods/POST/#");
            String token = HubTestSupport.ownerToken(hub);
            OutputStream out = socket.getOutputStream();
            // the second request is answered on the spot (no such route), the third unauthenticated
            out.write((request("POST", "/twins/slow-dev-2/methods", token,
                    "{\"methodName\":\"slow\",\"responseTimeoutInSeconds\":60}")
                    + request("GET", "/no/such/route", token, null)
                    + request("GET", "/twins/slow-dev-2", null, null)).getBytes(StandardCharsets.UTF_8));
            out.flush();
            PahoDevice.Received call = device.next();
            String rid = call.topic().substring(call.topic().indexOf("?$rid=") + 6);
            device.publish("$iothub/methods/res/201/?$rid=" + rid, "{\"answer\":\"first\"}");

            InputStream in = socket.getInputStream();
            Response first = read(in);
            assertEquals(200, first.status(), first.body());
            assertEquals(201, first.json().get("status").asInt(), first.body());
            Response second = read(in);
            assertEquals(400, second.status(), second.body());
            assertEquals("InvalidOperation", second.headers().get("iothub-errorcode"));
            Response third = read(in);
            assertEquals(401, third.status(), third.body());
            assertEquals("IotHubUnauthorizedAccess", third.headers().get("iothub-errorcode"));
        }
    }

    @Test
    void anOversizedRequestBehindASlowOneIsRefusedAfterTheSlowOnesAnswer() throws Exception {
        try (PahoDevice device = PahoDevice.connect(hub, "slow-dev-3");
             SSLSocket socket = connect()) {
            device.subscribe("$iothub/methods/POST/#");
            String token = HubTestSupport.ownerToken(hub);
            OutputStream out = socket.getOutputStream();
            // the second request announces a body over the hub's limit: the body aggregator answers 413 and closes
            out.write((request("POST", "/twins/slow-dev-3/methods", token,
                    "{\"methodName\":\"slow\",\"responseTimeoutInSeconds\":60}")
                    + "PUT /devices/huge?api-version=2021-04-12 HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                    + token + "\r\nContent-Length: 50000000\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            PahoDevice.Received call = device.next();
            String rid = call.topic().substring(call.topic().indexOf("?$rid=") + 6);
            device.publish("$iothub/methods/res/200/?$rid=" + rid, "{\"answer\":\"before the 413\"}");

            InputStream in = socket.getInputStream();
            Response first = read(in);
            assertEquals(200, first.status(), first.body());
            assertEquals("before the 413", first.json().at("/payload/answer").asText(), first.body());
            Response second = read(in);
            assertEquals(413, second.status(), second.body());
            assertEquals(-1, in.read());
        }
    }

    private static SSLSocket connect() throws Exception {
        SSLSocket socket = (SSLSocket) HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory()
                .createSocket("localhost", hub.httpsPort());
        socket.setSoTimeout(60_000);
        socket.startHandshake();
        return socket;
    }

    private static String request(String method, String path, String token, String body) {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder r = new StringBuilder(method + " " + path + "?api-version=2021-04-12 HTTP/1.1\r\n"
                + "Host: localhost\r\n");
        if (token != null) {
            r.append("Authorization: ").append(token).append("\r\n");
        }
        if (body != null) {
            r.append("Content-Type: application/json; charset=utf-8\r\n");
        }
        return r.append("Content-Length: ").append(content.length).append("\r\n\r\n")
                .append(body == null ? "" : body).toString();
    }

    /** One response: status line, headers (names lower-cased), a Content-Length body. */
    private static Response read(InputStream in) throws IOException {
        String status = line(in);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            headers.put(header.substring(0, colon).trim().toLowerCase(Locale.ROOT), header.substring(colon + 1).trim());
        }
        byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        return new Response(Integer.parseInt(status.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.UTF_8);
    }
}
