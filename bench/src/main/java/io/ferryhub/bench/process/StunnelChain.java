package io.ferryhub.bench.process;

import io.ferryhub.bench.tls.BenchPki;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The classic way to tunnel TCP through a relay with TLS on both legs, built from Debian's stunnel, as the baseline
 * for device streams. The same topology as client -> service-proxy =TLS=> gateway =TLS=> device-proxy -> target:
 * <pre>
 *   client -> [operator: plain in, TLS out] =TLS=> [relay-in: TLS in, plain out] -> [relay-out: plain in, TLS out]
 *          =TLS=> [device: TLS in, plain out] -> target
 * </pre>
 * All four services run in one stunnel process; certificates are generated per run (ECDSA P-256), clients verify
 * the chain and the host name, and TLS 1.3 with the same cipher suite as the hub's connections is used.
 */
public final class StunnelChain implements AutoCloseable {
    private final ChildProcess process;
    private final int entryPort;

    private StunnelChain(ChildProcess process, int entryPort) {
        this.process = process;
        this.entryPort = entryPort;
    }

    public static StunnelChain start(Path dir, int targetPort, String cipherSuite)
            throws IOException, InterruptedException {
        dir = dir.toAbsolutePath();
        BenchPki pki = BenchPki.generate(dir.resolve("tls"));
        int entry = ChildProcess.freePort();
        int relayIn = ChildProcess.freePort();
        int relayOut = ChildProcess.freePort();
        int device = ChildProcess.freePort();
        String clientTls = String.join("\n",
                "client = yes",
                "CAfile = " + pki.caCertificate(),
                "verifyChain = yes",
                "checkHost = localhost",
                "sslVersion = TLSv1.3",
                "ciphersuites = " + cipherSuite);
        String serverTls = String.join("\n",
                "cert = " + pki.serverCertificate(),
                "key = " + pki.serverKey(),
                "sslVersion = TLSv1.3",
                "ciphersuites = " + cipherSuite);
        Path config = dir.resolve("stunnel.conf");
        Files.writeString(config, String.join("\n",
                "; generated for one benchmark run",
                "foreground = yes",
                "pid =",
                "debug = notice",
                "",
                "[operator]",
                "accept = 127.0.0.1:" + entry,
                "connect = 127.0.0.1:" + relayIn,
                clientTls,
                "",
                "[relay-in]",
                "accept = 127.0.0.1:" + relayIn,
                "connect = 127.0.0.1:" + relayOut,
                serverTls,
                "",
                "[relay-out]",
                "accept = 127.0.0.1:" + relayOut,
                "connect = 127.0.0.1:" + device,
                clientTls,
                "",
                "[device]",
                "accept = 127.0.0.1:" + device,
                "connect = 127.0.0.1:" + targetPort,
                serverTls,
                ""));
        ChildProcess process = ChildProcess.start("stunnel", List.of("stunnel4", config.toString()), dir,
                dir.resolve("stunnel.log"));
        try {
            process.awaitPort(entry, Duration.ofSeconds(15));
        } catch (IOException | InterruptedException e) {
            process.close();
            throw e;
        }
        return new StunnelChain(process, entry);
    }

    /** Where clients connect: the plain-text entry of the chain. */
    public int entryPort() {
        return entryPort;
    }

    public ChildProcess process() {
        return process;
    }

    @Override
    public void close() {
        process.close();
    }
}
