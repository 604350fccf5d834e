package io.ferryhub.client.http;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.ferryhub.common.tls.ClientTls;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HubHttpClient against the JDK's own HTTPS server: an HTTP peer we did not write. */
class HubHttpClientTest {
    private static HttpsServer server;
    /** Released by the test once the client gave up on /slow: the server answers only after the client's deadline. */
    private static final CountDownLatch slowAnswer = new CountDownLatch(1);
    private static Path caPem;

    @BeforeAll
    static void startServer(@TempDir Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair keys = generator.generateKeyPair();
        X500Name name = new X500Name("CN=localhost");
        long now = System.currentTimeMillis();
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                new JcaX509v3CertificateBuilder(name, BigInteger.ONE, new Date(now - 60_000), new Date(now + 3_600_000),
                        name, keys.getPublic())
                        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                                new GeneralName(GeneralName.dNSName, "localhost"),
                                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}))
                        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        caPem = dir.resolve("server.pem");
        Files.writeString(caPem, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", keys.getPrivate(), new char[0], new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, new char[0]);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);

        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/echo", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("X-Method", exchange.getRequestMethod());
            exchange.getResponseHeaders().set("X-Auth", String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/slow", exchange -> {
            try {
                slowAnswer.await(30, TimeUnit.SECONDS); // answers once the test saw the client give up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        server.createContext("/error", exchange -> {
            byte[] body = ("{\"Message\":\"{\\\"errorCode\\\":404001,\\\"message\\\":\\\"Device not found\\\"}\","
                    + "\"ExceptionMessage\":\"\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("iothub-errorcode", "DeviceNotFound");
            exchange.sendResponseHeaders(404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterAll
    static void stopServer() {
        server.stop(0);
    }

    private static URI base(String host) {
        return URI.create("https://" + host + ":" + server.getAddress().getPort());
    }

    @Test
    void sendsBodiesAndHeadersAndReadsTheAnswerOverVerifiedTls() throws Exception {
        try (HubHttpClient client = new HubHttpClient(base("localhost"), ClientTls.trusting(caPem))) {
            byte[] body = new byte[200_000];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i * 31);
            }
            HttpResult result = client.send("PUT", "/echo?api-version=2021-04-12",
                    Map.of("Authorization", "SharedAccessSignature x"), body, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
            assertEquals(200, result.status());
            assertEquals("PUT", result.header("X-Method"));
            assertEquals("SharedAccessSignature x", result.header("x-auth"));
            assertArrayEquals(body, result.body());
        }
    }

    @Test
    void manyRequestsInFlightAllGetTheirOwnAnswer() throws Exception {
        try (HubHttpClient client = new HubHttpClient(base("127.0.0.1"), ClientTls.trusting(caPem))) {
            List<CompletableFuture<HttpResult>> calls = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                calls.add(client.send("POST", "/echo", Map.of(), ("request-" + i).getBytes(StandardCharsets.UTF_8),
                        Duration.ofSeconds(20)));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertEquals("request-" + i, calls.get(i).get(30, TimeUnit.SECONDS).bodyText());
            }
        }
    }

    @Test
    void aBurstLeavesAtMostTheBoundOfIdleConnectionsWhichAreReusedThenClosed() throws Exception {
        try (CountingRelay relay = new CountingRelay(server.getAddress().getPort());
             HubHttpClient client = new HubHttpClient(URI.create("https://127.0.0.1:" + relay.port()),
                     ClientTls.trusting(caPem), null, 4, Duration.ofSeconds(5))) {
            List<CompletableFuture<HttpResult>> burst = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                burst.add(client.send("POST", "/echo", Map.of(), ("burst-" + i).getBytes(StandardCharsets.UTF_8),
                        Duration.ofSeconds(20)));
            }
            for (int i = 0; i < burst.size(); i++) {
                assertEquals("burst-" + i, burst.get(i).get(30, TimeUnit.SECONDS).bodyText());
            }
            int peak = relay.peak.get();
            System.out.printf("https pool: %d requests at once opened %d connections; %d open after the burst%n",
                    burst.size(), peak, relay.open.get());
            assertTrue(peak > 4, "the burst did not need more connections than the bound: " + peak);
            await(() -> relay.open.get() <= 4, () -> relay.open.get() + " connections still open at the server");
            assertTrue(client.openConnections() <= 4, client.openConnections() + " connections open at the client");

            int accepted = relay.accepted.get();
            for (int i = 0; i < 10; i++) {
                assertEquals("again-" + i, client.send("POST", "/echo", Map.of(),
                        ("again-" + i).getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(20))
                        .get(30, TimeUnit.SECONDS).bodyText());
            }
            // one new connection at most (should every idle one have timed out meanwhile), reused by the others
            assertTrue(relay.accepted.get() - accepted <= 1, (relay.accepted.get() - accepted)
                    + " new connections for requests one at a time");

            await(() -> relay.open.get() == 0, () -> relay.open.get() + " idle connections outlived the timeout");
        }
    }

    private static void await(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what)
            throws InterruptedException {
        if (!io.ferryhub.testsupport.Await.within(java.time.Duration.ofSeconds(10), condition::getAsBoolean)) {
            throw new AssertionError(what.get());
        }
    }

    /** A TCP relay in front of the server that counts the connections open through it: the server's view. */
    private static final class CountingRelay implements AutoCloseable {
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        final AtomicInteger accepted = new AtomicInteger();
        private final ServerSocket listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        private final int target;

        CountingRelay(int target) throws IOException {
            this.target = target;
            Thread acceptor = new Thread(this::accept, "counting-relay");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    Socket client = listener.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    accepted.incrementAndGet();
                    peak.accumulateAndGet(open.incrementAndGet(), Math::max);
                    AtomicBoolean done = new AtomicBoolean();
                    Runnable closeBoth = () -> {
                        if (done.compareAndSet(false, true)) {
                            open.decrementAndGet();
                            closeQuietly(client);
                            closeQuietly(upstream);
                        }
                    };
                    pump(client, upstream, closeBoth);
                    pump(upstream, client, closeBoth);
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private static void pump(Socket from, Socket to, Runnable closeBoth) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (IOException e) {
                    // either end went away
                }
                closeBoth.run();
            }, "counting-relay-pump");
            t.setDaemon(true);
            t.start();
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }

    @Test
    void hubErrorBodiesAreReadable() throws Exception {
        try (HubHttpClient client = new HubHttpClient(base("localhost"), ClientTls.trusting(caPem))) {
            HttpResult result = client.send("GET", "/error", Map.of(), null, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
            assertEquals(404, result.status());
            assertEquals("404001 DeviceNotFound: Device not found", result.errorReason());
        }
    }

    @Test
    void aDeadlineFailsTheCallWithATimeout() {
        try (HubHttpClient client = new HubHttpClient(base("localhost"), ClientTls.trusting(caPem))) {
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> client.send("GET", "/slow", Map.of(), null, Duration.ofMillis(300)).get(15, TimeUnit.SECONDS));
            assertInstanceOf(TimeoutException.class, failure.getCause());
        } finally {
            slowAnswer.countDown();
        }
    }

    @Test
    void aCertificateForAnotherNameIsRefused() {
        // the certificate names localhost and 127.0.0.1 only; 127.0.0.2 also reaches the server on Linux loopback
        try (HubHttpClient client = new HubHttpClient(base("127.0.0.2"), ClientTls.trusting(caPem))) {
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> client.send("GET", "/echo", Map.of(), null, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, failure.getCause());
        }
    }

    @Test
    void aRefusedConnectionFailsWithAnIoException() throws Exception {
        int freePort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        try (HubHttpClient client = new HubHttpClient(URI.create("https://127.0.0.1:" + freePort), ClientTls.trusting(caPem))) {
            ExecutionException failure = assertThrows(ExecutionException.class,
                    () -> client.send("GET", "/", Map.of(), null, Duration.ofSeconds(5)).get(15, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, failure.getCause());
        }
    }
}
