package io.ferryhub.serviceproxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

/**
 * Measures a stream to a device's {@code echo} target, like ping and iperf for streams: round-trip latency of small
 * messages, then throughput of a bulk transfer whose echo must come back byte for byte (SHA-256 compared). Runs as
 * an ordinary TCP client of the service proxy's listener, so it measures the whole path. The first echo also waits
 * for the stream (or tunnel channel) to be set up: it is reported apart ({@code firstEchoMillis}), and the round
 * trips are those of the pings after it.
 */
final class EchoProbe {
    private static final int CHUNK = 64 * 1024;

    private EchoProbe() {
    }

    /** The service proxy closed the connection before the echo came back: it got no stream. */
    static final class Closed extends IOException {
        Closed(String message) {
            super(message);
        }
    }

    static ObjectNode run(InetSocketAddress proxy, int pings, long bytes) throws IOException, InterruptedException {
        ObjectNode out = Json.object();
        try (Socket socket = new Socket()) {
            long openStart = System.nanoTime();
            socket.connect(proxy, 10_000);
            socket.setSoTimeout(30_000);
            socket.setTcpNoDelay(true);
            InputStream in = socket.getInputStream();
            OutputStream os = socket.getOutputStream();
            byte[] ping = new byte[64];
            echo(in, os, ping, 0);
            out.put("firstEchoMillis", (System.nanoTime() - openStart) / 1e6);
            long[] rtt = new long[pings];
            for (int i = 0; i < pings; i++) {
                long start = System.nanoTime();
                echo(in, os, ping, i + 1);
                rtt[i] = System.nanoTime() - start;
            }
            Arrays.sort(rtt);
            if (pings > 0) {
                out.put("pings", pings);
                out.put("rttP50Millis", rtt[pings / 2] / 1e6);
                out.put("rttP99Millis", rtt[Math.min(pings - 1, pings * 99 / 100)] / 1e6);
            }
            if (bytes > 0) {
                bulk(socket, bytes, out);
            }
        }
        return out;
    }

    private static void echo(InputStream in, OutputStream os, byte[] ping, int i) throws IOException {
        ping[0] = (byte) i;
        byte[] back;
        try {
            os.write(ping);
            os.flush();
            back = in.readNBytes(ping.length);
        } catch (SocketException e) {
            throw new Closed("the connection to the service proxy broke before echo " + i + ": " + e.getMessage());
        }
        if (back.length < ping.length) {
            throw new Closed("the service proxy closed the connection before echo " + i + " came back");
        }
        if (!Arrays.equals(ping, back)) {
            throw new IOException("echo " + i + " came back different: the echo target altered the bytes");
        }
    }

    private static void bulk(Socket socket, long bytes, ObjectNode out) throws IOException, InterruptedException {
        MessageDigest sent = sha256();
        IOException[] writeFailure = new IOException[1];
        long start = System.nanoTime();
        Thread writer = new Thread(() -> {
            Random random = new Random(42);
            byte[] chunk = new byte[CHUNK];
            try {
                OutputStream os = socket.getOutputStream();
                for (long left = bytes; left > 0; ) {
                    int n = (int) Math.min(chunk.length, left);
                    random.nextBytes(chunk);
                    sent.update(chunk, 0, n);
                    os.write(chunk, 0, n);
                    left -= n;
                }
                os.flush();
            } catch (IOException e) {
                writeFailure[0] = e;
            }
        }, "echo-writer");
        writer.start();
        MessageDigest received = sha256();
        byte[] buf = new byte[CHUNK];
        long got = 0;
        InputStream in = socket.getInputStream();
        while (got < bytes) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, bytes - got));
            if (n < 0) {
                throw new IOException("the stream ended after " + got + " of " + bytes + " echoed bytes");
            }
            received.update(buf, 0, n);
            got += n;
        }
        writer.join();
        if (writeFailure[0] != null) {
            throw writeFailure[0];
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String sentHash = HexFormat.of().formatHex(sent.digest());
        String receivedHash = HexFormat.of().formatHex(received.digest());
        out.put("bytes", bytes);
        out.put("seconds", seconds);
        out.put("megabitsPerSecondEachWay", bytes * 8 / seconds / 1e6);
        out.put("sha256Sent", sentHash);
        out.put("sha256Received", receivedHash);
        out.put("intact", sentHash.equals(receivedHash));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
