package io.ferryhub.hub.adapter;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * The certificate chain a client presented in the TLS handshake of a connection, for X.509 device authentication
 * on any transport (MQTT, AMQP and their WebSocket forms, HTTPS). The hub's TLS asks for a certificate without
 * verifying it; the device authenticator decides what it proves.
 */
public final class TlsClientCertificates {
    private TlsClientCertificates() {
    }

    /** The chain, leaf first, or null when the connection has no TLS or the client sent no certificate. */
    public static X509Certificate[] of(Channel channel) {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
                return null;
            }
            return Arrays.stream(chain).filter(X509Certificate.class::isInstance).map(X509Certificate.class::cast)
                    .toArray(X509Certificate[]::new);
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
