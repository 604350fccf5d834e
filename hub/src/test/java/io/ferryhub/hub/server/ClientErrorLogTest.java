package io.ferryhub.hub.server;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.CapturedLog;
import io.ferryhub.hub.HubTestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What unauthenticated callers send wrong is theirs to fix, not the hub's: each such request gets an answer (or
 * its connection closed) and the log one line, never a stack trace.
 */
class ClientErrorLogTest {
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

    @Test
    void malformedRequestsLogOneLineWithoutAStackTrace() throws Exception {
        try (CapturedLog log = new CapturedLog()) {
            // WebSocket upgrades the handshake cannot complete: no key, for each protocol on the HTTPS port
            for (String protocol : new String[]{"mqtt", "AMQPWSB10"}) {
                String answer = exchange(hub.httpsPort(), "GET /$iothub/websocket HTTP/1.1\r\nHost: localhost\r\n"
                        + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                        + "Sec-WebSocket-Protocol: " + protocol + "\r\n\r\n");
                assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
                log.awaitContaining(protocol + " over WebSocket refused");
            }
            // malformed SAS tokens, targets and method overrides on REST
            assertTrue(exchange(hub.httpsPort(), get("/devices/x", "Authorization: SharedAccessSignature "
                    + "sr=%ZZ&sig=%%%&se=99999999999999999999999&skn=iothubowner")).startsWith("HTTP/1.1 401"));
            assertTrue(exchange(hub.httpsPort(), get("/devices/x", "Authorization: SharedAccessSignature "
                    + "sr=localhost&sig=&se=-1")).startsWith("HTTP/1.1 401"));
            assertTrue(exchange(hub.httpsPort(), "POST /devices/%ZZ/messages/events HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Length: 0\r\n\r\n").startsWith("HTTP/1.1 400"));
            assertTrue(exchange(hub.httpsPort(), get("/devices/x", "X-HTTP-Method-Override: NOT A METHOD"))
                    .startsWith("HTTP/1.1 "));
            assertTrue(exchange(hub.httpsPort(), "GARBAGE\r\n\r\n").startsWith("HTTP/1.1 400"));
            // device routes authenticate themselves: odd ids and tokens must not reach the log as failures
            String someKey = "AAECAwQFBgcICQoLDA0ODw==";
            for (String id : new String[]{"a%00b", "a".repeat(2000), "..", "x%2Fmodules%2Fy", "%E2%82"}) {
                String token = SasToken.create("localhost/devices/" + id, someKey, null,
                        Instant.now().plusSeconds(60));
                assertTrue(exchange(hub.httpsPort(), "POST /devices/" + id + "/messages/events?api-version=1 "
                        + "HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + token + "\r\nContent-Length: 2\r\n"
                        + "Connection: close\r\n\r\n{}").startsWith("HTTP/1.1 4"), id);
                assertTrue(exchange(hub.httpsPort(), "GET /devices/" + id + "/modules/" + id
                        + "/messages/deviceBound?api-version=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                        + "SharedAccessSignature\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 4"), id);
            }
            // bytes that are no protocol at all on the MQTT and AMQP ports
            exchange(hub.mqttPort(), "\u0010\u00ff\u00ff\u00ff\u00ff\u00ffjunk");
            exchange(hub.amqpPort(), "AMQP\u0009\u0001\u0000\u0000junk junk junk");

            String text = log.awaitContaining("AMQPWSB10 over WebSocket refused");
            assertFalse(text.contains("\tat "), text);
            assertFalse(text.contains("Exception\n"), text);
        }
    }

    private static String get(String path, String header) {
        return "GET " + path + "?api-version=2021-04-12 HTTP/1.1\r\nHost: localhost\r\n" + header + "\r\n"
                + "Connection: close\r\n\r\n";
    }

    /** Sends {@code request} on a new TLS connection and answers what comes back until the hub closes it. */
    private static String exchange(int port, String request) throws Exception {
        try (SSLSocket socket = (SSLSocket) HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory()
                .createSocket("localhost", port)) {
            socket.setSoTimeout(30_000);
            socket.startHandshake();
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            StringBuilder answer = new StringBuilder();
            byte[] buffer = new byte[4096];
            try {
                for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
                    answer.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                    if (answer.indexOf("\r\n\r\n") > 0) { // the status line and headers are all the test reads
                        break;
                    }
                }
            } catch (IOException closed) {
                // the hub may close without a word on garbage
            }
            return answer.toString();
        }
    }
}
