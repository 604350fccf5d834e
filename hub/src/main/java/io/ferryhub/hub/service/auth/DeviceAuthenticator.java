package io.ferryhub.hub.service.auth;

import java.net.InetAddress;
import java.security.cert.X509Certificate;

/** Authenticates devices and modules on any device-facing transport. */
public interface DeviceAuthenticator {
    /**
     * Checks a device's credentials: a SAS token (signed with the identity's primary or secondary key, or by a
     * policy with DeviceConnect) or, when {@code sasToken} is null, the TLS client certificate chain.
     *
     * @param moduleId   null for a device
     * @param sasToken   the token as the client sent it, or null
     * @param clientCertificates the peer's verified-or-not chain from the TLS session, or null
     * @throws io.ferryhub.common.error.HubException {@code IotHubUnauthorizedAccess} for bad, expired or
     *         mis-scoped credentials, an unknown or disabled identity; the message says which, for the log
     */
    AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                     X509Certificate[] clientCertificates);

    /**
     * The same, for a connection from {@code from} (null when unknown): implementations that watch failed
     * authentications count them per address.
     */
    default AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                             X509Certificate[] clientCertificates, InetAddress from) {
        return authenticate(deviceId, moduleId, sasToken, clientCertificates);
    }
}
