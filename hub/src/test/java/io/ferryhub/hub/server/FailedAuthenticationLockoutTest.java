package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.service.auth.FailedAuthentications;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.testsupport.Await;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failed device authentications over MQTT and HTTPS from one address (127.0.0.2) block that address on every device
 * listener, at accept, while 127.0.0.1 still connects; the block ends after its time. With the option on, a device
 * whose credentials keep failing is disabled with a status reason saying why.
 */
@Timeout(120)
class FailedAuthenticationLockoutTest {
    private static final InetAddress ATTACKER = address("127.0.0.2");
    private static final InetAddress OTHER = address("127.0.0.3");
    private static final String WRONG_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anAddressFailingTooOftenIsRefusedAtAcceptUntilItsBlockEnds(@TempDir Path dir) throws Exception {
        TrafficLimits limits = TrafficLimits.none().withLockout(new FailedAuthentications.Settings(3,
                Duration.ofMinutes(1), Duration.ofSeconds(3), 1000, false));
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits)) {
            String key = HubTestSupport.register(hub, "lock-d1");
            // two wrong MQTT passwords and one wrong HTTPS token from 127.0.0.2
            for (int i = 0; i < 2; i++) {
                MqttException refused = assertThrows(MqttException.class,
                        () -> mqttConnect(hub, ATTACKER, "lock-d1", WRONG_KEY).disconnectForcibly());
                assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refused.getReasonCode());
            }
            assertEquals(401, httpsSend(hub, ATTACKER, "lock-d1", WRONG_KEY));
            assertTrue(hub.failedAuthentications().isBlocked(ATTACKER));
            assertEquals(3, hub.failedAuthentications().failureCount());

            // now even the right key from 127.0.0.2 is refused before TLS, on MQTT, AMQP and HTTPS alike
            long refusedBefore = hub.failedAuthentications().refusedAtAcceptCount();
            assertThrows(MqttException.class, () -> mqttConnect(hub, ATTACKER, "lock-d1", key));
            assertEquals(-1, httpsSend(hub, ATTACKER, "lock-d1", key));
            assertTrue(closedAtAccept(hub.amqpPort(), ATTACKER), "the AMQP port closes the connection at once");
            assertEquals(refusedBefore + 3, hub.failedAuthentications().refusedAtAcceptCount());
            // while 127.0.0.1 connects
            mqttConnect(hub, InetAddress.getLoopbackAddress(), "lock-d1", key).disconnect();
            assertEquals(204, httpsSend(hub, InetAddress.getLoopbackAddress(), "lock-d1", key));
            assertTrue(hub.metrics().scrape().contains("ferryhub_failed_device_authentications_total 3"));

            Await.until("the block of 127.0.0.2 ends", () -> !hub.failedAuthentications().isBlocked(ATTACKER));
            mqttConnect(hub, ATTACKER, "lock-d1", key).disconnect();
            assertEquals(204, httpsSend(hub, ATTACKER, "lock-d1", key));
        }
    }

    @Test
    void aDeviceWhoseCredentialsKeepFailingIsDisabledWithAReasonWhenAsked(@TempDir Path dir) throws Exception {
        TrafficLimits limits = TrafficLimits.none().withLockout(new FailedAuthentications.Settings(3,
                Duration.ofMinutes(1), Duration.ofMinutes(5), 1000, true));
        try (HubServer hub = HubServer.start(HubConfig.ephemeral(dir), Clock.systemUTC(), limits)) {
            String key = HubTestSupport.register(hub, "lock-victim");
            assertEquals(401, httpsSend(hub, OTHER, "lock-victim", WRONG_KEY));
            assertEquals(401, httpsSend(hub, OTHER, "lock-victim", WRONG_KEY));
            assertTrue(hub.registry().device("lock-victim").isEnabled(), "below the threshold");
            assertThrows(MqttException.class, () -> mqttConnect(hub, OTHER, "lock-victim", WRONG_KEY));

            Device disabled = hub.registry().device("lock-victim");
            assertEquals(Device.DISABLED, disabled.status());
            assertTrue(disabled.statusReason().contains("3 failed authentications")
                    && disabled.statusReason().contains("127.0.0.3"), disabled.statusReason());
            // disabled: the right key no longer works, from any address
            assertEquals(401, httpsSend(hub, InetAddress.getLoopbackAddress(), "lock-victim", key));
        }
    }

    private static MqttClient mqttConnect(HubServer hub, InetAddress local, String deviceId, String key)
            throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setSocketFactory(new BoundSocketFactory(
                HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory(), local));
        options.setUserName("localhost/" + deviceId + "/?api-version=2021-04-12");
        options.setPassword(HubTestSupport.deviceToken(hub, deviceId, key).toCharArray());
        options.setConnectionTimeout(20);
        MqttClient client = new MqttClient("ssl://127.0.0.1:" + hub.mqttPort(), deviceId, new MemoryPersistence());
        try {
            client.connect(options);
        } catch (MqttException e) {
            client.close(true);
            throw e;
        }
        return client;
    }

    /**
     * POSTs one telemetry message over HTTPS from {@code local}; the status, or -1 when the hub closed the
     * connection before answering (TLS never completed).
     */
    private static int httpsSend(HubServer hub, InetAddress local, String deviceId, String key) throws Exception {
        SSLSocketFactory tls = HubTestSupport.trusting(hub.caCertificatePath()).getSocketFactory();
        try (Socket raw = new Socket()) {
            raw.bind(new InetSocketAddress(local, 0));
            raw.connect(new InetSocketAddress("127.0.0.1", hub.httpsPort()), 10_000);
            raw.setSoTimeout(20_000);
            try (SSLSocket socket = (SSLSocket) tls.createSocket(raw, "localhost", hub.httpsPort(), true)) {
                socket.startHandshake();
                String body = "{\"n\":1}";
                String request = "POST /devices/" + deviceId + "/messages/events?api-version=2020-09-30 HTTP/1.1\r\n"
                        + "Host: localhost\r\nAuthorization: " + HubTestSupport.deviceToken(hub, deviceId, key)
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                        + "\r\nConnection: close\r\n\r\n" + body;
                OutputStream out = socket.getOutputStream();
                out.write(request.getBytes(StandardCharsets.UTF_8));
                out.flush();
                String status = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine();
                return status == null ? -1 : Integer.parseInt(status.split(" ")[1]);
            }
        } catch (IOException e) {
            return -1;
        }
    }

    /** Whether a plain TCP connection from {@code local} is closed by the hub without a byte being sent. */
    private static boolean closedAtAccept(int port, InetAddress local) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(local, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            socket.setSoTimeout(20_000);
            try {
                return socket.getInputStream().read() == -1;
            } catch (IOException reset) {
                return true;
            }
        }
    }

    /** TLS sockets whose local end is bound to one address: a device elsewhere, as far as the hub can tell. */
    private static final class BoundSocketFactory extends SSLSocketFactory {
        private final SSLSocketFactory tls;
        private final InetAddress local;

        BoundSocketFactory(SSLSocketFactory tls, InetAddress local) {
            this.tls = tls;
            this.local = local;
        }

        @Override
        public Socket createSocket() throws IOException {
            Socket socket = tls.createSocket();
            socket.bind(new InetSocketAddress(local, 0));
            return socket;
        }

        @Override
        public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
            return tls.createSocket(s, host, port, autoClose);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            Socket socket = createSocket();
            socket.connect(new InetSocketAddress(host, port));
            return socket;
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return tls.createSocket(host, port, localHost, localPort);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            Socket socket = createSocket();
            socket.connect(new InetSocketAddress(host, port));
            return socket;
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                throws IOException {
            return tls.createSocket(address, port, localAddress, localPort);
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return tls.getDefaultCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return tls.getSupportedCipherSuites();
        }
    }
}
