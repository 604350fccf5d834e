package io.ferryhub.common.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which TLS engine every FerryHub endpoint uses: Netty's OpenSSL (BoringSSL) engine when its native library loads
 * on this platform, which costs far less CPU per handshake and per byte than the JDK's, and the JDK engine
 * otherwise. Chosen once per process and logged once.
 */
public final class TlsEngine {
    private static final Logger log = LoggerFactory.getLogger(TlsEngine.class);
    private static final SslProvider PREFERRED = choose();

    private TlsEngine() {
    }

    private static SslProvider choose() {
        if (OpenSsl.isAvailable()) {
            log.info("TLS engine: OpenSSL ({})", OpenSsl.versionString());
            return SslProvider.OPENSSL;
        }
        log.info("TLS engine: JDK (the OpenSSL engine is unavailable here: {})",
                String.valueOf(OpenSsl.unavailabilityCause()));
        return SslProvider.JDK;
    }

    public static SslProvider preferred() {
        return PREFERRED;
    }
}
