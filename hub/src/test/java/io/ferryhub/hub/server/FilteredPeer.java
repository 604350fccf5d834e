package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.net.ssl.SSLSocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client of the hub's listeners whose socket is bound to a chosen local address, so that on one machine it can be
 * "another host" for the IP filter: on Linux all of 127.0.0.0/8 is loopback, so 127.0.0.2 and 127.0.0.1 are two
 * peers. It speaks just enough of each protocol to prove a connection works (MQTT CONNECT/CONNACK, the AMQP header,
 * a WebSocket upgrade) and checks that a refused one is closed before any TLS byte.
 */
final class FilteredPeer {
    private static final int TIMEOUT_MILLIS = 20_000;

    private FilteredPeer() {
    }

    static Socket plain(String local, String server, int port) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(local, 0));
        socket.connect(new InetSocketAddress(server, port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return socket;
    }

    /** A TLS connection from {@code local}, its handshake done (it throws when the hub closes it first). */
    static SSLSocket tls(Path caPem, String local, String server, int port) throws Exception {
        Socket plain = plain(local, server, port);
        SSLSocket tls = (SSLSocket) HubTestSupport.trusting(caPem).getSocketFactory().createSocket(plain, "localhost",
                port, true);
        tls.startHandshake();
        return tls;
    }

    /**
     * The hub closes a connection from {@code local} at once: before the client has sent a byte the socket reads its
     * end (so no ServerHello can have been sent), and a TLS handshake on a new connection fails.
     */
    static void assertRefusedBeforeTls(Path caPem, String local, String server, int port) throws Exception {
        try (Socket socket = plain(local, server, port)) {
            int read;
            try {
                read = socket.getInputStream().read();
            } catch (SocketException reset) {
                read = -1;
            }
            assertEquals(-1, read, "the hub sent a byte to a refused address on port " + port);
        }
        assertThrows(IOException.class, () -> tls(caPem, local, server, port).close(),
                "a TLS handshake from " + local + " to port " + port + " completed");
    }

    /** Waits (bounded by the socket timeout) until the hub closes {@code socket}. */
    static void assertClosedByHub(Socket socket) throws IOException {
        try {
            int read = socket.getInputStream().read();
            if (read != -1) {
                fail("expected the hub to close the connection, read " + read);
            }
        } catch (SocketException | javax.net.ssl.SSLException closed) {
            // reset or TLS closed without close_notify: closed all the same
        }
    }

    /** MQTT 3.1.1 CONNECT with a SAS token; returns the CONNACK's return code (0 accepted). */
    static int mqttConnect(Socket socket, HubServer hub, String deviceId, String key) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) 0xC2, 0, 60});
        writeString(body, deviceId);
        writeString(body, hub.hostName() + "/" + deviceId + "/?api-version=2021-04-12");
        writeString(body, HubTestSupport.deviceToken(hub, deviceId, key));
        OutputStream out = socket.getOutputStream();
        out.write(0x10);
        int length = body.size();
        do {
            int digit = length % 128;
            length /= 128;
            out.write(length > 0 ? digit | 0x80 : digit);
        } while (length > 0);
        out.write(body.toByteArray());
        out.flush();
        byte[] connack = socket.getInputStream().readNBytes(4);
        assertEquals(4, connack.length, "no CONNACK");
        assertEquals(0x20, connack[0] & 0xff);
        return connack[3];
    }

    /** PINGREQ, then the PINGRESP. */
    static void mqttPing(Socket socket) throws IOException {
        socket.getOutputStream().write(new byte[] {(byte) 0xC0, 0});
        socket.getOutputStream().flush();
        byte[] pong = socket.getInputStream().readNBytes(2);
        assertEquals(0xD0, pong.length == 2 ? pong[0] & 0xff : -1, "no PINGRESP");
    }

    /** Sends the AMQP SASL protocol header and returns the 8 bytes the hub answers with. */
    static byte[] amqpHeader(Socket socket) throws IOException {
        socket.getOutputStream().write(new byte[] {'A', 'M', 'Q', 'P', 3, 1, 0, 0});
        socket.getOutputStream().flush();
        return socket.getInputStream().readNBytes(8);
    }

    /** A WebSocket upgrade request; returns the status line of the answer. */
    static String upgrade(Socket socket, String path, String protocol) throws IOException {
        String request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n") + "\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return statusLine(socket.getInputStream());
    }

    /** A plain HTTP GET with an Authorization header; returns the status line. */
    static String get(Socket socket, String path, String authorization) throws IOException {
        String request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + authorization
                + "\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return statusLine(socket.getInputStream());
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }
}
