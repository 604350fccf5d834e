package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.net.InetAddress;
import java.security.cert.X509Certificate;

/** A device authenticator that counts its refusals in {@link FailedAuthentications}, per device and address. */
public final class MonitoredDeviceAuthenticator implements DeviceAuthenticator {
    private final DeviceAuthenticator delegate;
    private final FailedAuthentications failures;

    public MonitoredDeviceAuthenticator(DeviceAuthenticator delegate, FailedAuthentications failures) {
        this.delegate = delegate;
        this.failures = failures;
    }

    @Override
    public AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                            X509Certificate[] clientCertificates) {
        return authenticate(deviceId, moduleId, sasToken, clientCertificates, null);
    }

    @Override
    public AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                            X509Certificate[] clientCertificates, InetAddress from) {
        try {
            return delegate.authenticate(deviceId, moduleId, sasToken, clientCertificates, from);
        } catch (HubException e) {
            if (e.errorCode() == HubErrorCode.IotHubUnauthorizedAccess) {
                failures.failed(deviceId, from);
            }
            throw e;
        }
    }
}
