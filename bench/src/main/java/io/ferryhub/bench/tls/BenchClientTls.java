package io.ferryhub.bench.tls;

import io.ferryhub.common.tls.TlsEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.nio.file.Path;
import java.util.List;

/**
 * The load generators' TLS client settings, identical for every server compared: TLS 1.3 with one cipher suite
 * (AES-128-GCM, the hub's choice), the server's CA trusted, host names verified. With netty-tcnative on the class
 * path the client runs on BoringSSL, which offers every TLS 1.3 suite whatever is configured, so the peers compared
 * with (Mosquitto, stunnel) are pinned to the same suite on their side; otherwise OpenSSL servers pick AES-256 and
 * a comparison would partly measure that choice. Reports show the suite each connection negotiated.
 */
public final class BenchClientTls {
    public static final String PROTOCOL = "TLSv1.3";
    public static final String CIPHER_SUITE = "TLS_AES_128_GCM_SHA256";

    private BenchClientTls() {
    }

    public static SslContext trusting(Path caPem) {
        try {
            return SslContextBuilder.forClient()
                    .sslProvider(TlsEngine.preferred())
                    .protocols(PROTOCOL)
                    .ciphers(List.of(CIPHER_SUITE))
                    .trustManager(caPem.toFile())
                    .endpointIdentificationAlgorithm("HTTPS")
                    .build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a TLS client context trusting " + caPem, e);
        }
    }
}
