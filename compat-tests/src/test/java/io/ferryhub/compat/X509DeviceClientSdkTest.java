package io.ferryhub.compat;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.service.auth.AuthenticationType;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java device client (iot-device-client 2.5.0) as a self-signed X.509 device (connection string
 * {@code x509=true}, its certificate in the SSLContext) sends telemetry over MQTT, AMQPS (no SASL layer, no CBS
 * token), AMQPS_WS and HTTPS; a certificate that matches no registered thumbprint is refused over AMQPS.
 */
class X509DeviceClientSdkTest {
    private static final char[] STORE_PASSWORD = "compat".toCharArray();
    @TempDir
    static Path dataDir;
    @TempDir
    static Path keys;
    static HubProcess hub;
    static String hostName;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671");
        hub.trustForHttpsUrlConnection();
        hostName = hub.ownerConnectionString().split("HostName=")[1].split(";")[0];
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    /** A self-signed EC certificate with CN={@code commonName}, made by the JDK's keytool, in a PKCS12 store. */
    private static KeyStore selfSigned(String commonName) throws Exception {
        Path store = keys.resolve(commonName + "-" + System.nanoTime() + ".p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "device", "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg",
                "SHA256withECDSA", "-dname", "CN=" + commonName, "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", new String(STORE_PASSWORD))
                .redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes());
        assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, output);
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, STORE_PASSWORD);
        }
        return keyStore;
    }

    private static String sha256Thumbprint(KeyStore keyStore) throws Exception {
        return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(keyStore.getCertificate("device").getEncoded()));
    }

    private static SSLContext presenting(KeyStore keyStore) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore, STORE_PASSWORD);
        return hub.clientTls(kmf.getKeyManagers());
    }

    private static void registerSelfSigned(String deviceId, String thumbprint) throws Exception {
        Device device = new Device(deviceId, AuthenticationType.SELF_SIGNED);
        device.setThumbprint(thumbprint, thumbprint);
        new RegistryClient(hub.ownerConnectionString()).addDevice(device);
    }

    private static DeviceClient client(String deviceId, IotHubClientProtocol protocol, KeyStore certificate)
            throws Exception {
        return new DeviceClient("HostName=" + hostName + ";DeviceId=" + deviceId + ";x509=true", protocol,
                ClientOptions.builder().sslContext(presenting(certificate)).build());
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS", "AMQPS_WS", "HTTPS"})
    void selfSignedDeviceSendsTelemetry(IotHubClientProtocol protocol) throws Exception {
        String deviceId = "sdk-x509-" + protocol.name().toLowerCase().replace('_', '-');
        KeyStore certificate = selfSigned(deviceId);
        registerSelfSigned(deviceId, sha256Thumbprint(certificate));
        DeviceClient client = client(deviceId, protocol, certificate);
        client.open(false);
        try {
            // returns once the hub acknowledged it; throws when the hub refuses the certificate
            client.sendEvent(new Message("{\"x509\":true}"));
        } finally {
            client.close();
        }
    }

    @Test
    void aCertificateMatchingNoThumbprintIsRefusedOverAmqps() throws Exception {
        KeyStore registered = selfSigned("sdk-x509-refused");
        registerSelfSigned("sdk-x509-refused", sha256Thumbprint(registered));
        KeyStore stranger = selfSigned("sdk-x509-refused");
        DeviceClient client = client("sdk-x509-refused", IotHubClientProtocol.AMQPS, stranger);
        try {
            IotHubClientException refused = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, refused.getStatusCode(), refused.toString());
        } finally {
            client.close();
        }
    }
}
