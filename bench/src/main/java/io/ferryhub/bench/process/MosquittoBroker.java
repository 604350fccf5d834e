package io.ferryhub.bench.process;

import io.ferryhub.bench.tls.BenchClientTls;
import io.ferryhub.bench.tls.BenchPki;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's Mosquitto with one TLS listener on loopback, certificates generated for this run, as the baseline the
 * hub's MQTT telemetry is compared with. No persistence (Mosquitto's default): it acknowledges from memory.
 */
public final class MosquittoBroker implements AutoCloseable {
    private final ChildProcess process;
    private final int port;
    private final BenchPki pki;

    private MosquittoBroker(ChildProcess process, int port, BenchPki pki) {
        this.process = process;
        this.port = port;
        this.pki = pki;
    }

    public static MosquittoBroker start(Path runDir) throws IOException, InterruptedException {
        Path dir = runDir.toAbsolutePath();
        BenchPki pki = BenchPki.generate(dir.resolve("tls"));
        int port = ChildProcess.freePort();
        Path config = dir.resolve("mosquitto.conf");
        Files.writeString(config, String.join("\n",
                "# generated for one benchmark run",
                "per_listener_settings false",
                "persistence false",
                "allow_anonymous true",
                // no caps on messages in flight or queued per client: the load generator's window is the only
                // limit, as for the hub, and the reading subscriber must not lose messages to a full queue
                "max_inflight_messages 0",
                "max_queued_messages 0",
                "log_dest stdout",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "listener " + port + " 127.0.0.1",
                "cafile " + pki.caCertificate().toAbsolutePath(),
                "certfile " + pki.serverCertificate().toAbsolutePath(),
                "keyfile " + pki.serverKey().toAbsolutePath(),
                "tls_version tlsv1.3",
                // the suite the hub (JDK TLS) picks; clients on BoringSSL cannot restrict TLS 1.3 suites themselves
                "ciphers_tls1.3 " + BenchClientTls.CIPHER_SUITE,
                "require_certificate false",
                ""));
        ChildProcess process = ChildProcess.start("mosquitto", List.of("mosquitto", "-c", config.toString()), dir,
                dir.resolve("mosquitto.log"));
        try {
            process.awaitPort(port, Duration.ofSeconds(15));
        } catch (IOException | InterruptedException e) {
            process.close();
            throw e;
        }
        return new MosquittoBroker(process, port, pki);
    }

    public int port() {
        return port;
    }

    public Path caCertificate() {
        return pki.caCertificate();
    }

    public ChildProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.close();
    }
}
