package io.ferryhub.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * Client sockets bound to a chosen local address, so that one machine can play several hosts to an address filter:
 * on Linux all of 127.0.0.0/8 is loopback, so a client bound to 127.0.0.2 is "another host" than one on 127.0.0.1.
 * Also the few exchanges address-filter tests make on them (a WebSocket upgrade, a GET) and the checks that a server
 * closed a connection before TLS or closed an open one.
 */
public final class BoundClient {
    private static final int TIMEOUT_MILLIS = 20_000;

    private BoundClient() {
    }

    /** True when the machine has the IPv6 loopback address ::1 (a test of IPv6 peers assumes it). */
    public static boolean hasIpv6Loopback() throws SocketException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet6Address && a.isLoopbackAddress()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A TCP connection from {@code local} (port chosen by the system), reads timing out after 20 s. */
    public static Socket plain(String local, String server, int port) throws IOException {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(local, 0));
        socket.connect(new InetSocketAddress(server, port), TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return socket;
    }

    /** A TLS connection from {@code local}, its handshake done (it throws when the server closes it first). */
    public static SSLSocket tls(SSLContext trust, String local, String server, int port) throws IOException {
        Socket plain = plain(local, server, port);
        SSLSocket tls = (SSLSocket) trust.getSocketFactory().createSocket(plain, "localhost", port, true);
        tls.startHandshake();
        return tls;
    }

    /**
     * The server closes a connection from {@code local} at once: before the client has sent a byte the socket reads
     * its end (so no ServerHello can have been sent), and a TLS handshake on another connection fails.
     */
    public static void assertRefusedBeforeTls(SSLContext trust, String local, String server, int port)
            throws IOException {
        try (Socket socket = plain(local, server, port)) {
            int read;
            try {
                read = socket.getInputStream().read();
            } catch (SocketException reset) {
                read = -1;
            }
            if (read != -1) {
                throw new AssertionError("the server on port " + port + " sent a byte to refused " + local);
            }
        }
        try (SSLSocket tls = tls(trust, local, server, port)) {
            throw new AssertionError("a TLS handshake from " + local + " to port " + port + " completed");
        } catch (IOException expected) {
            // the handshake saw the connection closed
        }
    }

    /** Waits (up to the read timeout) until the server closes {@code socket}; fails if data or nothing comes. */
    public static void assertClosedByServer(Socket socket) throws IOException {
        try {
            int read = socket.getInputStream().read();
            if (read != -1) {
                throw new AssertionError("expected the server to close the connection, read " + read);
            }
        } catch (SocketException | SSLException closed) {
            // reset, or TLS closed without close_notify: closed all the same
        }
    }

    /** A WebSocket upgrade request ({@code protocol} may be null); returns the status line of the answer. */
    public static String upgrade(Socket socket, String path, String protocol) throws IOException {
        return request(socket, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + (protocol == null ? "" : "Sec-WebSocket-Protocol: " + protocol + "\r\n") + "\r\n");
    }

    /** An HTTP GET with an Authorization header; returns the status line of the answer. */
    public static String get(Socket socket, String path, String authorization) throws IOException {
        return request(socket, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: " + authorization
                + "\r\n\r\n");
    }

    private static String request(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
