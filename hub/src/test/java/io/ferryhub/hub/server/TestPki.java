package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;

/** Certificates for X.509 tests: CAs, device certificates, and TLS client contexts presenting them. */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A key pair and the certificate for it. */
    public record Issued(KeyPair keys, X509Certificate certificate) {
        public String pem() throws Exception {
            return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                    .encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n";
        }

        public String sha1() throws Exception {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(certificate.getEncoded()));
        }

        public String sha256() throws Exception {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(certificate.getEncoded()));
        }
    }

    private TestPki() {
    }

    static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    public static Issued selfSigned(String cn, boolean ca) throws Exception {
        KeyPair keys = keys();
        return new Issued(keys, build(cn, keys, cn, keys.getPrivate(), ca, Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(1))));
    }

    public static Issued issue(String cn, Issued issuer, boolean ca) throws Exception {
        return issue(cn, issuer, ca, Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(1)));
    }

    static Issued issue(String cn, Issued issuer, boolean ca, Instant notBefore, Instant notAfter) throws Exception {
        KeyPair keys = keys();
        String issuerCn = issuer.certificate().getSubjectX500Principal().getName().replaceFirst("^CN=", "");
        return new Issued(keys, build(cn, keys, issuerCn, issuer.keys().getPrivate(), ca, notBefore, notAfter));
    }

    private static X509Certificate build(String cn, KeyPair keys, String issuerCn, PrivateKey signer, boolean ca,
                                         Instant notBefore, Instant notAfter) throws Exception {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=" + issuerCn),
                new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(notBefore), Date.from(notAfter),
                new X500Name("CN=" + cn), keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, ca ? new BasicConstraints(1) : new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.digitalSignature
                : KeyUsage.digitalSignature));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    }

    /** A client TLS context presenting {@code chain} (leaf first) and trusting the hub's CA. */
    public static SSLContext client(Issued leaf, X509Certificate[] chain, java.nio.file.Path hubCa) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("device", leaf.keys().getPrivate(), "pw".toCharArray(), chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), HubTestSupport.trustManagers(hubCa), null);
        return ctx;
    }
}
