package io.ferryhub.bench.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * A throw-away CA and server certificate for the peers the hub is compared with (Mosquitto, stunnel), generated per
 * run. ECDSA P-256 like the hub's own certificates, so both sides of a comparison pay the same handshake costs.
 *
 * @param caCertificate     PEM file of the CA clients trust
 * @param serverCertificate PEM file of the server certificate (SANs localhost and 127.0.0.1)
 * @param serverKey         PEM file of the server's PKCS#8 private key
 */
public record BenchPki(Path caCertificate, Path serverCertificate, Path serverKey) {

    public static BenchPki generate(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            KeyPair caKeys = ecKeyPair();
            X500Name caName = new X500Name("CN=FerryHub benchmark CA");
            Instant now = Instant.now();
            X509CertificateHolder ca = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), caName,
                    caKeys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .build(signer(caKeys));
            KeyPair serverKeys = ecKeyPair();
            X509CertificateHolder server = new JcaX509v3CertificateBuilder(caName, BigInteger.TWO,
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))),
                    new X500Name("CN=localhost"), serverKeys.getPublic())
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                            new GeneralName(GeneralName.dNSName, "localhost"),
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1")}))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .build(signer(caKeys));
            BenchPki pki = new BenchPki(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"));
            Files.writeString(pki.caCertificate, pem(ca));
            Files.writeString(pki.serverCertificate, pem(server));
            Files.writeString(pki.serverKey, pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(
                    serverKeys.getPrivate(), null)));
            return pki;
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot generate benchmark certificates: " + e.getMessage(), e);
        }
    }

    private static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static ContentSigner signer(KeyPair keys) throws OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
    }

    private static String pem(Object object) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString();
    }
}
