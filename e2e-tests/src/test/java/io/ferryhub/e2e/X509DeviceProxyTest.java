package io.ferryhub.e2e;

import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.tls.ClientTls;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.serviceproxy.ServiceProxy;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A device proxy that authenticates with a self-signed X.509 certificate (thumbprint registered) and no SAS key. */
class X509DeviceProxyTest {
    @TempDir
    Path dataDir;

    @Test
    void anX509DeviceServesStreams() throws Exception {
        try (StreamTestHub hub = new StreamTestHub(dataDir)) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
                    new X500Name("CN=x509-device"), BigInteger.valueOf(System.nanoTime()),
                    Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plus(Duration.ofDays(1))),
                    new X500Name("CN=x509-device"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            Path certPem = dataDir.resolve("device.pem");
            Path keyPem = dataDir.resolve("device-key.pem");
            Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(keyPem, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
            String thumbprint = HexFormat.of().withUpperCase().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
            HttpResponse<String> created = hub.owner("PUT", "/devices/x509-device", "{\"deviceId\":\"x509-device\","
                    + "\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":{\"primaryThumbprint\":\""
                    + thumbprint + "\"}}}", Map.of());
            assertEquals(200, created.statusCode(), created.body());

            ConnectionString device = ConnectionString.forX509Device(hub.host(), "x509-device", null);
            try (DeviceProxy deviceProxy = new DeviceProxy(device, new HubEndpoint(hub.host(), hub.mqttPort(),
                    ClientTls.withClientCertificate(hub.ca(), certPem, keyPem)), Map.of(), true, hub.nettyTls());
                 ServiceProxy serviceProxy = new ServiceProxy(hub.policy("service"),
                         URI.create("https://" + hub.host() + ":" + hub.httpsPort()), hub.nettyTls(),
                         new ServiceProxy.Target("x509-device", null, "echo", Duration.ZERO, Duration.ofSeconds(30)),
                         new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                deviceProxy.start().get(30, TimeUnit.SECONDS);
                try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                        serviceProxy.localAddress().getPort())) {
                    socket.setSoTimeout(20_000);
                    byte[] hello = "certificate-authenticated device".getBytes(StandardCharsets.US_ASCII);
                    socket.getOutputStream().write(hello);
                    assertArrayEquals(hello, socket.getInputStream().readNBytes(hello.length));
                }
            }
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
