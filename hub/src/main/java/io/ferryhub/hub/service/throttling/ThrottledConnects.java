package io.ferryhub.hub.service.throttling;

import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.DeviceAuthenticator;

import java.net.InetAddress;
import java.security.cert.X509Certificate;

/**
 * The authenticator of connection-oriented transports (MQTT CONNECT, AMQP SASL and CBS): every attempt counts against
 * the hub's new-connection throttle before its credentials are checked, so a connect storm costs no key checks.
 */
public final class ThrottledConnects implements DeviceAuthenticator {
    private final DeviceAuthenticator delegate;
    private final Throttles throttles;

    public ThrottledConnects(DeviceAuthenticator delegate, Throttles throttles) {
        this.delegate = delegate;
        this.throttles = throttles;
    }

    @Override
    public AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                            X509Certificate[] clientCertificates) {
        return authenticate(deviceId, moduleId, sasToken, clientCertificates, null);
    }

    @Override
    public AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                            X509Certificate[] clientCertificates, InetAddress from) {
        throttles.admit(OperationClass.CONNECT);
        return delegate.authenticate(deviceId, moduleId, sasToken, clientCertificates, from);
    }
}
