package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.Etags;
import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.storage.registry.CaCertificateStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.SecureRandom;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Certificate authorities that vouch for X.509 devices, as IoT Hub's CA registration works: a CA is added
 * unverified, the hub issues a verification code, and the CA becomes trusted once its owner presents a certificate
 * signed by the CA whose subject CN is that code (proof of possession of the CA's key). Devices then authenticate
 * with a chain to a verified CA whose leaf's CN is their id.
 */
public final class CertificateAuthorities {
    private static final Logger log = LoggerFactory.getLogger(CertificateAuthorities.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CaCertificateStore store;
    private final Clock clock;
    private final Object writeLock = new Object();

    public CertificateAuthorities(CaCertificateStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Registers (or replaces, which drops its verification) a CA certificate; PEM or base64 DER. */
    public CaCertificate put(String name, String certificateText, String ifMatch) {
        checkName(name);
        X509Certificate cert = parse(certificateText, "certificate");
        if (cert.getBasicConstraints() < 0) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "the certificate is not a certificate authority (its basic constraints say CA:FALSE)");
        }
        synchronized (writeLock) {
            Optional<CaCertificate> existing = store.find(name);
            existing.ifPresent(c -> Etags.check(ifMatch, c.etag()));
            String now = clock.instant().toString();
            CaCertificate stored = new CaCertificate(name, pem(cert), cert.getSubjectX500Principal().getName(),
                    thumbprint(cert), cert.getNotAfter().toInstant().toString(), false, null, Etags.newEtag(),
                    existing.map(CaCertificate::created).orElse(now), now);
            StorageWrites.await(store.put(stored), "the CA certificate");
            log.info("CA certificate '{}' ({}) registered, unverified", name, stored.subject());
            return stored;
        }
    }

    public CaCertificate get(String name) {
        return store.find(name).orElseThrow(() -> notFound(name));
    }

    public List<CaCertificate> all() {
        return store.all();
    }

    public void delete(String name, String ifMatch) {
        synchronized (writeLock) {
            CaCertificate current = get(name);
            Etags.check(ifMatch, current.etag());
            StorageWrites.await(store.delete(name), "the CA certificate");
            log.info("CA certificate '{}' deleted", name);
        }
    }

    /** Issues a fresh verification code: the CN the proof-of-possession certificate must carry. */
    public CaCertificate generateVerificationCode(String name, String ifMatch) {
        synchronized (writeLock) {
            CaCertificate current = get(name);
            Etags.check(ifMatch, current.etag());
            byte[] code = new byte[16];
            RANDOM.nextBytes(code);
            CaCertificate updated = new CaCertificate(name, current.pem(), current.subject(), current.thumbprint(),
                    current.expiry(), current.verified(), HexFormat.of().withUpperCase().formatHex(code),
                    Etags.newEtag(),
                    current.created(), clock.instant().toString());
            StorageWrites.await(store.put(updated), "the CA certificate");
            return updated;
        }
    }

    /** Marks the CA verified if {@code proofText} is signed by it and names the current verification code. */
    public CaCertificate verify(String name, String proofText, String ifMatch) {
        X509Certificate proof = parse(proofText, "verification certificate");
        synchronized (writeLock) {
            CaCertificate current = get(name);
            Etags.check(ifMatch, current.etag());
            if (current.verificationCode() == null) {
                throw new HubException(HubErrorCode.InvalidOperation,
                        "no verification code was issued for '" + name + "': generate one first");
            }
            String cn = commonName(proof);
            if (!current.verificationCode().equals(cn)) {
                throw new HubException(HubErrorCode.ArgumentInvalid, "the verification certificate's subject CN ('"
                        + cn + "') is not the verification code");
            }
            X509Certificate ca = parse(current.pem(), "stored CA certificate");
            try {
                proof.verify(ca.getPublicKey());
                proof.checkValidity(Date.from(clock.instant()));
            } catch (GeneralSecurityException e) {
                throw new HubException(HubErrorCode.ArgumentInvalid,
                        "the verification certificate is not signed by this CA, or is not currently valid");
            }
            CaCertificate verified = new CaCertificate(name, current.pem(), current.subject(), current.thumbprint(),
                    current.expiry(), true, null, Etags.newEtag(), current.created(), clock.instant().toString());
            StorageWrites.await(store.put(verified), "the CA certificate");
            log.info("CA certificate '{}' verified by proof of possession", name);
            return verified;
        }
    }

    /**
     * Whether {@code chain} (leaf first, possibly with intermediates) leads to a verified CA, each certificate
     * currently valid. The reason for a refusal comes back in the exception.
     */
    void checkChain(X509Certificate[] chain) {
        Set<TrustAnchor> anchors = new HashSet<>();
        for (CaCertificate c : store.all()) {
            if (c.verified()) {
                anchors.add(new TrustAnchor(parse(c.pem(), "stored CA certificate"), null));
            }
        }
        if (anchors.isEmpty()) {
            throw SasVerifier.unauthorized("no verified CA certificate is registered");
        }
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> path = new ArrayList<>(Arrays.asList(chain));
            // a chain that includes the root itself: the anchor must not be part of the path
            path.removeIf(cert -> anchors.stream().anyMatch(a -> a.getTrustedCert().equals(cert)));
            CertPath certPath = factory.generateCertPath(path);
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(clock.instant()));
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        } catch (CertPathValidatorException e) {
            throw SasVerifier.unauthorized("the client certificate chain does not lead to a verified CA: "
                    + e.getMessage());
        } catch (CertificateException | InvalidAlgorithmParameterException | java.security.NoSuchAlgorithmException e) {
            throw SasVerifier.unauthorized("the client certificate chain cannot be checked: " + e.getMessage());
        }
    }

    static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
            return "";
        } catch (InvalidNameException e) {
            return "";
        }
    }

    /** A certificate from PEM or base64 DER text. */
    static X509Certificate parse(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new HubException(HubErrorCode.ArgumentNull, "the " + what + " is missing");
        }
        byte[] bytes = text.contains("-----BEGIN") ? text.getBytes(StandardCharsets.US_ASCII)
                : decodeBase64(text, what);
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(bytes));
        } catch (CertificateException | ClassCastException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the " + what + " is not an X.509 certificate");
        }
    }

    private static byte[] decodeBase64(String text, String what) {
        try {
            return Base64.getMimeDecoder().decode(text.trim());
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the " + what + " is neither PEM nor base64 DER");
        }
    }

    static String pem(X509Certificate cert) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                    .encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateException e) {
            throw new IllegalStateException("cannot encode a parsed certificate", e);
        }
    }

    private static String thumbprint(X509Certificate cert) {
        return RegistryDeviceAuthenticator.digest(cert, "SHA-1");
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "a certificate name is 1 to 64 letters, digits, '-', '_' or '.'");
        }
    }


    private static HubException notFound(String name) {
        return new HubException(HubErrorCode.CertificateNotFound, "No CA certificate named '" + name + "'");
    }
}
