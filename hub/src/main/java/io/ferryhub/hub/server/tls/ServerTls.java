package io.ferryhub.hub.server.tls;

import io.netty.handler.ssl.ClientAuth;
import io.ferryhub.common.tls.TlsEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.nio.file.Path;

/**
 * The server TLS context shared by every hub listener: TLS 1.2 and 1.3 only, the engine {@link TlsEngine} prefers.
 *
 * <p>Client certificates are requested but optional and not verified here: X.509 devices present certificates
 * signed by CAs the hub learns at run time (or self-signed ones known by thumbprint), so the device authenticator
 * decides, with the registry at hand, not the TLS layer's trust manager.
 */
public final class ServerTls {
    private ServerTls() {
    }

    public static SslContext serverContext(Path certificateChain, Path privateKey) throws SSLException {
        return SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile())
                .sslProvider(TlsEngine.preferred())
                .protocols("TLSv1.3", "TLSv1.2")
                .clientAuth(ClientAuth.OPTIONAL)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .build();
    }
}
