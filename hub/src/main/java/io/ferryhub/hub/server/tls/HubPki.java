package io.ferryhub.hub.server.tls;

import io.ferryhub.common.files.OwnerOnlyFiles;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The hub's own certificates: a CA generated on first start and a server certificate it issues whose SANs cover
 * every name the hub answers to. Both are kept in the data directory ({@code ca.pem} is what clients trust) and
 * reused; the server certificate is re-issued when the hub's names change. ECDSA P-256 keeps handshakes cheap.
 */
public final class HubPki {
    private static final Logger log = LoggerFactory.getLogger(HubPki.class);
    public static final String CA_CERT = "ca.pem";
    static final String CA_KEY = "ca-key.pem";
    public static final String SERVER_CERT = "server.pem";
    public static final String SERVER_KEY = "server-key.pem";
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Duration CA_LIFETIME = Duration.ofDays(20 * 365);
    private static final Duration SERVER_LIFETIME = Duration.ofDays(5 * 365);
    /** A server certificate this close to expiry is re-issued at start. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    private HubPki() {
    }

    /** The server certificate chain and key files, and the CA clients must trust. */
    public record CertificateFiles(Path serverChain, Path serverKey, Path caCertificate) {
    }

    /** Creates or reuses the CA and a server certificate covering {@code names} in {@code tlsDir}. */
    public static CertificateFiles ensure(Path tlsDir, Set<String> names) throws IOException {
        try {
            OwnerOnlyFiles.createDirectories(tlsDir);
            Path caCert = tlsDir.resolve(CA_CERT);
            Path caKey = tlsDir.resolve(CA_KEY);
            X509Certificate ca;
            PrivateKey caPrivate;
            if (Files.exists(caCert) && Files.exists(caKey)) {
                ca = readCertificates(caCert).get(0);
                caPrivate = readPrivateKey(caKey);
            } else {
                KeyPair pair = newKeyPair();
                ca = issueCa(pair);
                caPrivate = pair.getPrivate();
                writeSecret(caKey, pem(caPrivate));
                writePublic(caCert, pem(ca));
                log.info("created the hub's certificate authority: {}", caCert);
            }
            Path serverCert = tlsDir.resolve(SERVER_CERT);
            Path serverKey = tlsDir.resolve(SERVER_KEY);
            if (!Files.exists(serverCert) || !Files.exists(serverKey)
                    || !covers(readCertificates(serverCert).get(0), names)) {
                KeyPair pair = newKeyPair();
                X509Certificate server = issueServer(pair, ca, caPrivate, names);
                writeSecret(serverKey, pem(pair.getPrivate()));
                writePublic(serverCert, pem(server) + pem(ca));
                log.info("issued the hub's server certificate for {}", names);
            }
            return new CertificateFiles(serverCert, serverKey, caCert);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot create the hub's certificates: " + e.getMessage(), e);
        }
    }

    private static boolean covers(X509Certificate cert, Set<String> names) throws GeneralSecurityException {
        if (cert.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
            return false;
        }
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        Set<String> present = new HashSet<>();
        if (sans != null) {
            for (List<?> san : sans) {
                present.add(String.valueOf(san.get(1)).toLowerCase(Locale.ROOT));
            }
        }
        for (String name : names) {
            String wanted = isIp(name) ? normaliseIp(name) : name.toLowerCase(Locale.ROOT);
            if (!present.contains(wanted)) {
                return false;
            }
        }
        return true;
    }

    /** The JDK reports IPv6 SANs in full form ({@code 0:0:0:0:0:0:0:1}). */
    private static String normaliseIp(String ip) {
        try {
            return java.net.InetAddress.getByName(ip).getHostAddress().toLowerCase(Locale.ROOT);
        } catch (java.net.UnknownHostException e) {
            return ip;
        }
    }

    static boolean isIp(String name) {
        return IPV4.matcher(name).matches() || name.contains(":");
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static X509Certificate issueCa(KeyPair pair) throws GeneralSecurityException, OperatorCreationException,
            IOException {
        X500Name name = new X500Name("CN=FerryHub Local CA " + Long.toHexString(RANDOM.nextLong()));
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
        return sign(builder, pair.getPrivate());
    }

    private static X509Certificate issueServer(KeyPair pair, X509Certificate ca, PrivateKey caKey, Set<String> names)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        String first = names.iterator().next();
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(SERVER_LIFETIME)),
                new X500Name("CN=" + first), pair.getPublic());
        GeneralName[] sans = names.stream()
                .map(n -> new GeneralName(isIp(n) ? GeneralName.iPAddress : GeneralName.dNSName, n))
                .toArray(GeneralName[]::new);
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        builder.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        return sign(builder, caKey);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        X509CertificateHolder holder = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key));
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM).add(BigInteger.ONE);
    }

    /** Every certificate in a PEM file, in order. */
    public static List<X509Certificate> readCertificates(Path pem) throws IOException {
        try (Reader reader = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            List<X509Certificate> out = new java.util.ArrayList<>();
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            Object item;
            while ((item = parser.readObject()) != null) {
                if (item instanceof X509CertificateHolder holder) {
                    out.add(converter.getCertificate(holder));
                }
            }
            if (out.isEmpty()) {
                throw new IOException(pem + " holds no PEM certificate");
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + " holds an unreadable certificate: " + e.getMessage(), e);
        }
    }

    /** A PEM private key: PKCS#8 or the traditional forms. */
    public static PrivateKey readPrivateKey(Path pem) throws IOException {
        try (Reader reader = Files.newBufferedReader(pem, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            Object item = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (item instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (item instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new IOException(pem + " holds no unencrypted PEM private key");
        }
    }

    static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object instanceof PrivateKey key ? new JcaPKCS8Generator(key, null) : object);
        }
        return out.toString();
    }

    /**
     * A certificate: public, but owner-only like everything in the data directory (which no one else may enter
     * anyway); the operator hands ca.pem to clients.
     */
    private static void writePublic(Path file, String content) throws IOException {
        write(file, content);
    }

    /**
     * Writes a secret file (key material, the owner's connection string) durably, readable by its owner only from
     * before its first byte.
     */
    public static void writeSecret(Path file, String content) throws IOException {
        write(file, content);
    }

    /** Written beside, fsynced, renamed over, directory fsynced: a crash leaves the old file or the new, whole. */
    private static void write(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel channel = OwnerOnlyFiles.open(tmp, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
