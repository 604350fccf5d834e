package io.ferryhub.hub.service.auth;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Devices and modules, against the identity registry: a SAS token signed with the identity's primary or secondary
 * key (scoped to the identity), a token of a policy with DeviceConnect (scoped to the hub or the identity), a TLS
 * client certificate whose thumbprint is registered for the identity, or a certificate chain to a verified CA whose
 * leaf's CN is the identity's id.
 */
public final class RegistryDeviceAuthenticator implements DeviceAuthenticator {
    private final RegistryService registry;
    private final SharedAccessPolicies policies;
    private final CertificateAuthorities authorities;
    private final SasVerifier verifier;
    private final Clock clock;

    public RegistryDeviceAuthenticator(RegistryService registry, SharedAccessPolicies policies,
                                       CertificateAuthorities authorities, HostAliases hosts, Clock clock) {
        this.registry = registry;
        this.policies = policies;
        this.authorities = authorities;
        this.verifier = new SasVerifier(hosts, clock);
        this.clock = clock;
    }

    @Override
    public AuthenticatedDevice authenticate(String deviceId, String moduleId, String sasToken,
                                            X509Certificate[] clientCertificates) {
        // A refusal's reason travels in the exception: the transport logs it once, with the peer's address.
        return sasToken != null ? bySas(deviceId, moduleId, sasToken) : byCertificate(deviceId, moduleId,
                clientCertificates);
    }

    /** The identity's registration: its generation id, whether it is enabled, its credentials. */
    private record Identity(String generationId, boolean enabled, Authentication authentication) {
    }

    private Identity identity(String deviceId, String moduleId) {
        if (deviceId == null || deviceId.isEmpty()) {
            throw SasVerifier.unauthorized("no device id");
        }
        Device device = registry.findDevice(deviceId).orElseThrow(() -> SasVerifier.unauthorized(
                "device is not registered"));
        if (moduleId == null) {
            return new Identity(device.generationId(), device.isEnabled(), device.authentication());
        }
        Module module = registry.findModule(deviceId, moduleId).orElseThrow(() -> SasVerifier.unauthorized(
                "module is not registered"));
        return new Identity(module.generationId(), device.isEnabled(), module.authentication());
    }

    private AuthenticatedDevice bySas(String deviceId, String moduleId, String tokenText) {
        SasToken token = verifier.parseCurrent(tokenText);
        Identity identity = identity(deviceId, moduleId);
        List<String> target = new ArrayList<>(List.of("devices", deviceId));
        if (moduleId != null) {
            target.add("modules");
            target.add(moduleId);
        }
        List<String> scope = SasVerifier.pathSegments(token);
        if (!SasVerifier.covers(scope, target)) {
            throw SasVerifier.unauthorized("the SAS token is scoped to '" + token.resource() + "'");
        }
        String credential;
        if (token.keyName().isPresent()) {
            String keyName = token.keyName().get();
            SharedAccessPolicy policy = policies.find(keyName).orElseThrow(() -> SasVerifier.unauthorized(
                    "unknown shared access policy '" + keyName + "'"));
            if (!SasVerifier.signedWithEither(token, policy.primaryKey(), policy.secondaryKey())) {
                throw SasVerifier.unauthorized("the SAS token's signature does not match policy '" + keyName + "'");
            }
            if (!policy.rights().contains(Permission.DeviceConnect)) {
                throw SasVerifier.unauthorized("policy '" + keyName + "' does not grant DeviceConnect");
            }
            credential = Credentials.policy(keyName);
        } else {
            // An identity's own key signs for that identity only: the token must name it exactly.
            if (scope.size() != target.size()) {
                throw SasVerifier.unauthorized("a token signed with an identity key must be scoped to that identity, "
                        + "not to '" + token.resource() + "'");
            }
            Authentication auth = identity.authentication();
            if (auth == null || !auth.isSas()) {
                throw SasVerifier.unauthorized("the identity authenticates with "
                        + (auth == null ? "nothing" : auth.type()) + ", not SAS keys");
            }
            // both keys always checked, so timing does not tell which one matched; the match names the credential
            boolean primary = SasVerifier.signedWith(token, auth.symmetricKey().primaryKey(), false);
            boolean secondary = SasVerifier.signedWith(token, auth.symmetricKey().secondaryKey(), false);
            if (!(primary | secondary)) {
                throw SasVerifier.unauthorized("the SAS token's signature matches neither of the identity's keys");
            }
            credential = Credentials.sasKey(primary ? auth.symmetricKey().primaryKey()
                    : auth.symmetricKey().secondaryKey());
        }
        if (!identity.enabled()) {
            throw SasVerifier.unauthorized("device is disabled");
        }
        return new AuthenticatedDevice(deviceId, moduleId, "sas", identity.generationId(),
                token.expiry().getEpochSecond(), credential);
    }

    private AuthenticatedDevice byCertificate(String deviceId, String moduleId,
                                              X509Certificate[] clientCertificates) {
        if (clientCertificates == null || clientCertificates.length == 0) {
            throw SasVerifier.unauthorized("neither a SAS token nor a client certificate");
        }
        Identity identity = identity(deviceId, moduleId);
        X509Certificate leaf = clientCertificates[0];
        try {
            leaf.checkValidity(java.util.Date.from(clock.instant()));
        } catch (CertificateException e) {
            throw SasVerifier.unauthorized("the client certificate is expired or not yet valid");
        }
        Authentication auth = identity.authentication();
        String type = auth == null ? Authentication.NONE : auth.type();
        String method;
        String credential;
        if (Authentication.SELF_SIGNED.equals(type)) {
            String sha1 = digest(leaf, "SHA-1");
            String sha256 = digest(leaf, "SHA-256");
            if (!matchesThumbprint(sha1, sha256, auth.x509Thumbprint())) {
                throw SasVerifier.unauthorized("the client certificate's thumbprint is not registered for the "
                        + "identity");
            }
            method = "x509";
            credential = Credentials.certificate(sha1, sha256);
        } else if (Authentication.CERTIFICATE_AUTHORITY.equals(type)) {
            String expected = moduleId == null ? deviceId : moduleId;
            String cn = CertificateAuthorities.commonName(leaf);
            if (!expected.equals(cn)) {
                throw SasVerifier.unauthorized("the client certificate's subject CN ('" + cn + "') is not the "
                        + (moduleId == null ? "device" : "module") + " id");
            }
            authorities.checkChain(clientCertificates);
            method = "x509Ca";
            credential = Credentials.CERTIFICATE_AUTHORITY;
        } else {
            throw SasVerifier.unauthorized("the identity does not authenticate with certificates (" + type + ")");
        }
        if (!identity.enabled()) {
            throw SasVerifier.unauthorized("device is disabled");
        }
        return new AuthenticatedDevice(deviceId, moduleId, method, identity.generationId(), Long.MAX_VALUE,
                credential);
    }

    /** {@code sha1} and {@code sha256}: the certificate's thumbprints, upper-case hex. */
    private static boolean matchesThumbprint(String sha1, String sha256, Authentication.X509Thumbprint registered) {
        if (registered == null) {
            return false;
        }
        boolean match = false;
        for (String wanted : new String[]{registered.primaryThumbprint(), registered.secondaryThumbprint()}) {
            if (wanted != null) {
                String w = wanted.toUpperCase(Locale.ROOT);
                match |= MessageDigest.isEqual(w.getBytes(), sha1.getBytes())
                        | MessageDigest.isEqual(w.getBytes(), sha256.getBytes());
            }
        }
        return match;
    }

    static String digest(X509Certificate cert, String algorithm) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance(algorithm)
                    .digest(cert.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("cannot compute a certificate thumbprint", e);
        }
    }
}
