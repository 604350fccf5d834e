package io.ferryhub.compat;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A hub started the way a user starts one ({@code scripts/iothub start}), in its own process, on IoT Hub's fixed
 * HTTPS port: the official SDKs cannot be pointed at another. Needs root (or cap_net_bind_service) for port 443.
 */
final class HubProcess implements AutoCloseable {
    private final Process process;
    private final Path dataDir;
    private final StringBuilder output = new StringBuilder();

    private HubProcess(Process process, Path dataDir) {
        this.process = process;
        this.dataDir = dataDir;
    }

    static HubProcess start(Path dataDir, String... extraArgs) throws IOException, InterruptedException {
        Path repo = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(repo.resolve("scripts/iothub").toString(), "start",
                "--data-dir", dataDir.toString(), "--https-port", "443"));
        command.addAll(List.of(extraArgs));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        HubProcess hub = new HubProcess(process, dataDir);
        hub.awaitReady(process.getInputStream());
        return hub;
    }

    /** Reads the start banner until the HTTPS port line; fails with everything the hub printed if it exits. */
    private void awaitReady(InputStream stdout) throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            output.append(line).append('\n');
            if (line.trim().startsWith("https port")) {
                Thread drain = new Thread(() -> lines.lines().forEach(l -> { }), "hub-output");
                drain.setDaemon(true);
                drain.start();
                return;
            }
        }
        throw new IllegalStateException("the hub did not start:\n" + output);
    }

    String ownerConnectionString() throws IOException {
        return Files.readString(dataDir.resolve("iothubowner.connection-string")).trim();
    }

    Path caCertificate() {
        return dataDir.resolve("ca.pem");
    }

    /**
     * The Java service SDK's REST clients use HttpsURLConnection with the JVM's default socket factory and offer no
     * TLS option, so trust goes there (as -Djavax.net.ssl.trustStore would).
     */
    void trustForHttpsUrlConnection() throws Exception {
        HttpsURLConnection.setDefaultSSLSocketFactory(clientTls().getSocketFactory());
    }

    /** A client-side TLS context trusting the hub's CA, for the SDKs' {@code sslContext} options. */
    SSLContext clientTls() throws Exception {
        return clientTls(null);
    }

    /** As {@link #clientTls()}, presenting the certificate of {@code keys} (X.509 devices), when not null. */
    SSLContext clientTls(KeyManager[] keys) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caCertificate())) {
            trust.setCertificateEntry("hub-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys, tmf.getTrustManagers(), null);
        return tls;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
