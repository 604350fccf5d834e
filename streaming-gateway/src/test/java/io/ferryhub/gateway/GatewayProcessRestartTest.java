package io.ferryhub.gateway;

import io.ferryhub.signaling.BridgePath;
import io.ferryhub.signaling.StreamToken;
import io.ferryhub.testsupport.Await;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stand-alone gateway as operators run it ({@code streaming-gateway} in a process of its own): a token used
 * before the process is killed is refused by the next process exactly as before, and the files it keeps (used
 * tokens in --state-dir, recordings in --record-dir) are owner-only, including a recording directory an earlier
 * version left open.
 */
class GatewayProcessRestartTest {
    @TempDir
    Path dir;
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aUsedTokenIsRefusedByTheNextGatewayProcessAndItsFilesAreOwnerOnly() throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        Path keyFile = Files.createDirectories(dir.resolve("keys")).resolve("stream-token.key");
        Files.writeString(keyFile, Base64.getEncoder().encodeToString(GatewayFixture.KEY) + "\n");
        Path recordings = Files.createDirectories(dir.resolve("recordings"));
        Files.setPosixFilePermissions(recordings, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path oldRecording = Files.writeString(recordings.resolve("20260101T000000Z-old-0.ferryrec"), "plaintext");
        Files.setPosixFilePermissions(oldRecording, PosixFilePermissions.fromString("rw-r--r--"));
        Path state = dir.resolve("state");
        int port = freePort();
        List<String> args = List.of("--tls-cert", cert.certificate().getPath(), "--tls-key",
                cert.privateKey().getPath(), "--token-key-file", keyFile.toString(), "--state-dir", state.toString(),
                "--listen", "127.0.0.1:" + port, "--record-dir", recordings.toString(), "--record-all");
        SSLContext tls = trusting(cert);
        // a token naming its side, so a second presentation while the first end waits is refused, not paired
        StreamToken token = GatewayFixture.newStream("process-device").forSide(StreamToken.Side.SERVICE);
        String bearer = token.sign(GatewayFixture.KEY);

        Process first = startGateway(args, port, "first");
        String accepted = upgrade(tls, port, token, bearer, false);
        assertTrue(accepted.startsWith("HTTP/1.1 101 "), accepted);
        String refusedBefore = awaitRefusal(tls, port, token, bearer);
        assertTrue(refusedBefore.startsWith("HTTP/1.1 409 "), refusedBefore);
        first.destroyForcibly(); // a crash, not a clean stop: the record must already be on disk
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));

        startGateway(args, port, "second");
        assertEquals(refusedBefore, upgrade(tls, port, token, bearer, true),
                "refused by the new process as by the old one");
        StreamToken fresh = GatewayFixture.newStream("process-device").forSide(StreamToken.Side.SERVICE);
        assertTrue(upgrade(tls, port, fresh, fresh.sign(GatewayFixture.KEY), false).startsWith("HTTP/1.1 101 "),
                "a new stream's token works");

        Map<String, String> modes = new TreeMap<>();
        for (Path root : List.of(state, recordings)) {
            try (Stream<Path> all = Files.walk(root)) {
                all.forEach(p -> modes.put(dir.relativize(p).toString(), mode(p)));
            }
        }
        assertEquals("rwx------", modes.get("state"));
        assertEquals("rw-------", modes.get("state/used-stream-tokens"));
        assertEquals("rwx------", modes.get("recordings"));
        assertEquals("rw-------", modes.get("recordings/20260101T000000Z-old-0.ferryrec"), "tightened at start");
        assertTrue(modes.size() >= 5, "the streams were recorded too: " + modes);
        modes.forEach((path, mode) -> assertTrue(mode.equals("rwx------") || mode.equals("rw-------"),
                path + " is " + mode));
    }

    private Process startGateway(List<String> args, int port, String name) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), GatewayMain.class.getName()));
        command.addAll(args);
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        boolean listening = Await.within(Duration.ofSeconds(60), () -> {
            assertTrue(p.isAlive(), "the gateway exited: " + Files.readString(log));
            return Files.readString(log).contains("streaming gateway listening");
        });
        assertTrue(listening, "the gateway did not start: " + Files.readString(log));
        return p;
    }

    /** Until the first connection's end is seen to have left: then the token is refused as used. */
    private static String awaitRefusal(SSLContext tls, int port, StreamToken token, String bearer) throws Exception {
        String[] last = new String[1];
        String refused = Await.value(Duration.ofSeconds(30), () -> {
            last[0] = upgrade(tls, port, token, bearer, true);
            return last[0].contains("has ended") ? last[0] : null;
        });
        return refused != null ? refused : last[0];
    }

    /** A WebSocket upgrade with the token; a refusal is read whole, an acceptance up to its head (then left). */
    private static String upgrade(SSLContext tls, int port, StreamToken token, String bearer, boolean expectRefusal)
            throws IOException {
        try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(20_000);
            byte[] nonce = new byte[16];
            new SecureRandom().nextBytes(nonce);
            socket.getOutputStream().write(("GET " + BridgePath.of(token) + " HTTP/1.1\r\nHost: localhost:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                    + "Authorization: Bearer " + bearer + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            String head = readHead(socket.getInputStream());
            if (!expectRefusal || head.startsWith("HTTP/1.1 101 ")) {
                assertFalse(expectRefusal, "the token was accepted again: " + head);
                return head;
            }
            return head + new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private static SSLContext trusting(SelfSignedCertificate cert) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = new FileInputStream(cert.certificate())) {
            trust.setCertificateEntry("gateway", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    private static String mode(Path p) {
        try {
            return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
