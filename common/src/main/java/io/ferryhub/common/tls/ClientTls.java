package io.ferryhub.common.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS client contexts for talking to the hub. The hub's certificate is issued by its own CA (generated on first
 * start, {@code ca.pem} in the data directory) or by the operator's CA; clients trust exactly that file, or the
 * JVM's default trust store when none is given. Host names are always verified.
 */
public final class ClientTls {
    private ClientTls() {
    }

    /** A client context trusting the PEM certificates in {@code caPem}, or the system trust store if null. */
    public static SslContext trusting(Path caPem) {
        return build(caPem, SslContextBuilder.forClient());
    }

    /**
     * Like {@link #trusting}, presenting a client certificate: an X.509 device's chain ({@code certificatePem}) and
     * its PKCS#8 private key ({@code keyPem}).
     */
    public static SslContext withClientCertificate(Path caPem, Path certificatePem, Path keyPem) {
        for (Path file : new Path[]{certificatePem, keyPem}) {
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("client certificate file not readable: " + file);
            }
        }
        try {
            return build(caPem, SslContextBuilder.forClient().keyManager(certificatePem.toFile(), keyPem.toFile()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use " + certificatePem + " / " + keyPem
                    + " as a client certificate: " + e.getMessage(), e);
        }
    }

    private static SslContext build(Path caPem, SslContextBuilder builder) {
        try {
            builder.sslProvider(TlsEngine.preferred()).protocols("TLSv1.3", "TLSv1.2").endpointIdentificationAlgorithm("HTTPS");
            if (caPem != null) {
                if (!Files.isReadable(caPem)) {
                    throw new IllegalArgumentException("CA certificate file not readable: " + caPem);
                }
                builder.trustManager(caPem.toFile());
            }
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot build a TLS context from " + caPem + ": " + e.getMessage(), e);
        }
    }
}
