package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.signaling.StreamRequest;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.ferryhub.testsupport.Await;
import java.time.Duration;

/** CONNECT, ACL and stream-request delivery with Eclipse Paho over real TLS. */
class MqttConnectTest {
    private static MqttTestHub hub;
    private final List<MqttClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        hub = new MqttTestHub();
    }

    @AfterAll
    static void stop() throws Exception {
        hub.close();
    }

    @org.junit.jupiter.api.AfterEach
    void closeClients() throws MqttException {
        for (MqttClient client : clients) {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 1000);
            }
            client.close(true);
        }
    }

    private MqttClient client(String clientId) throws MqttException {
        MqttClient client = new MqttClient(hub.uri(), clientId, new MemoryPersistence());
        clients.add(client);
        return client;
    }

    private MqttConnectOptions options(String userName, String password) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(false);
        options.setAutomaticReconnect(false);
        options.setSocketFactory(hub.clientTls().getSocketFactory());
        options.setConnectionTimeout(10);
        options.setKeepAliveInterval(60);
        if (userName != null) {
            options.setUserName(userName);
        }
        if (password != null) {
            options.setPassword(password.toCharArray());
        }
        return options;
    }

    private static String userName(String clientId) {
        return MqttTestHub.HOST + "/" + clientId
                + "/?api-version=2021-04-12&DeviceClientType=paho%2F1.2.5&model-id=dtmi%3Acom%3Aexample%3B1";
    }

    private MqttClient connected(String clientId) throws Exception {
        String key = hub.keys.containsKey(clientId) ? hub.keys.get(clientId) : hub.register(clientId);
        MqttClient client = client(clientId);
        client.connect(options(userName(clientId), hub.token(clientId, key)));
        return client;
    }

    private static int refusal(MqttClient client, MqttConnectOptions options) {
        MqttException e = assertThrows(MqttException.class, () -> client.connect(options));
        return e.getReasonCode();
    }

    @Test
    void acceptsDeviceTokenAndRefusesWrongKeyAndUnknownDevice() throws Exception {
        String key = hub.register("conn-dev");
        MqttClient good = client("conn-dev");
        good.connect(options(userName("conn-dev"), hub.token("conn-dev", key)));
        assertTrue(good.isConnected());
        assertTrue(waitFor(() -> hub.connections.isConnected("conn-dev", null)));

        String otherKey = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED,
                refusal(client("conn-dev"), options(userName("conn-dev"), hub.token("conn-dev", otherKey))));
        assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED,
                refusal(client("nobody"), options(userName("nobody"), hub.token("nobody", key))));
        assertTrue(good.isConnected(), "refused attempts must not disturb the live connection");
    }

    @Test
    void acceptsModuleIdentityWithEitherUserNameForm() throws Exception {
        String key = hub.register("mod-dev/mod1");
        MqttClient withSlash = client("mod-dev/mod1");
        withSlash.connect(options(userName("mod-dev/mod1"), hub.token("mod-dev/mod1", key)));
        assertTrue(waitFor(() -> hub.connections.isConnected("mod-dev", "mod1")));
        withSlash.disconnect();

        MqttClient withoutSlash = client("mod-dev/mod1");
        withoutSlash.connect(options("other-alias.example/mod-dev/mod1?api-version=2018-06-30",
                hub.token("mod-dev/mod1", key)));
        assertTrue(withoutSlash.isConnected());
    }

    @Test
    void refusesMalformedIdentities() throws Exception {
        String key = hub.register("shape-dev");
        String token = hub.token("shape-dev", key);
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION,
                refusal(client("shape-dev"), options("localhost/other-dev/?api-version=2021-04-12", token)));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION,
                refusal(client("shape-dev"), options(null, token)));
        assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION,
                refusal(client("shape-dev"), options(userName("shape-dev"), null)));
        assertEquals(MqttException.REASON_CODE_INVALID_CLIENT_ID,
                refusal(client("a/b/c"), options(userName("a/b/c"), token)));
        assertEquals(MqttException.REASON_CODE_INVALID_CLIENT_ID,
                refusal(client("bad#id"), options(userName("bad#id"), token)));
        // positive control: the same token with the right user name works
        MqttClient good = client("shape-dev");
        good.connect(options(userName("shape-dev"), token));
        assertTrue(good.isConnected());
    }

    @Test
    void connectionStateAndLastActivityAreKeptInTheRegistry() throws Exception {
        MqttClient client = connected("state-dev");
        var states = hub.server.registry().connectionStates();
        assertTrue(waitFor(() -> states.of("state-dev", null).connected()));
        Instant connectedAt = Instant.parse(states.of("state-dev", null).lastActivityTime());
        // the activity below must have a later timestamp: wait until the clock has passed the connection's
        Await.until("the clock passes the connect time",
                () -> Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS).isAfter(connectedAt));
        client.publish("devices/state-dev/messages/events/", new byte[]{1}, 1, false);
        assertTrue(Instant.parse(states.of("state-dev", null).lastActivityTime()).isAfter(connectedAt));
        client.disconnect();
        assertTrue(waitFor(() -> !states.of("state-dev", null).connected()));
    }

    @Test
    void x509DeviceConnectsWithItsClientCertificateAndNoPassword() throws Exception {
        SelfSignedCertificate certificate =
                new SelfSignedCertificate("x509-dev");
        try {
            String thumbprint = HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(certificate.cert().getEncoded()));
            registerX509("x509-dev", thumbprint);
            registerX509("x509-other", "00".repeat(32));

            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("device", certificate.key(), new char[0],
                    new Certificate[]{certificate.cert()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(
                    KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(
                    TrustManagerFactory.getDefaultAlgorithm());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (var in = Files.newInputStream(hub.caFile().toPath())) {
                trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
                        .generateCertificate(in));
            }
            tmf.init(trust);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

            MqttConnectOptions options = options(userName("x509-dev"), null);
            options.setSocketFactory(tls.getSocketFactory());
            MqttClient device = client("x509-dev");
            device.connect(options);
            assertTrue(waitFor(() -> hub.connections.find("x509-dev", null)
                    .map(l -> l.identity().authMethod().equals("x509")).orElse(false)));

            // positive control above; the same certificate for an identity with another thumbprint is refused
            MqttConnectOptions other = options(userName("x509-other"), null);
            other.setSocketFactory(tls.getSocketFactory());
            assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, refusal(client("x509-other"), other));
        } finally {
            certificate.delete();
        }
    }

    private static void registerX509(String deviceId, String thumbprint) {
        hub.server.registry().putDevice(deviceId, new Device(deviceId, null, null,
                null, null, null, new Authentication("selfSigned", null,
                new Authentication.X509Thumbprint(thumbprint, null)), false, null,
                null), null);
    }

    @Test
    void aSilentClientIsDisconnectedAfterOneAndAHalfKeepAlivePeriods() throws Exception {
        String key = hub.register("silent-dev");
        try (SSLSocket socket = (SSLSocket) hub.clientTls().getSocketFactory().createSocket(MqttTestHub.HOST,
                hub.port())) {
            socket.setSoTimeout(15_000);
            socket.getOutputStream().write(connectPacket("silent-dev", userName("silent-dev"),
                    hub.token("silent-dev", key), 1));
            socket.getOutputStream().flush();
            byte[] connAck = socket.getInputStream().readNBytes(4);
            assertArrayEquals(new byte[]{0x20, 0x02, 0x00, 0x00}, connAck, "CONNACK accepted");
            assertTrue(waitFor(() -> hub.connections.isConnected("silent-dev", null)));
            // no PINGREQ: the hub must close the connection (1.5 s here), long before the socket timeout
            assertEquals(-1, socket.getInputStream().read());
        }
        assertTrue(waitFor(() -> !hub.connections.isConnected("silent-dev", null)));
    }

    /** An MQTT 3.1.1 CONNECT with clean session, user name and password, as any client library would send it. */
    private static byte[] connectPacket(String clientId, String userName, String password, int keepAliveSeconds) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        writeString(body, "MQTT");
        body.write(4); // protocol level 3.1.1
        body.write(0xC2); // user name, password, clean session
        body.write(keepAliveSeconds >> 8);
        body.write(keepAliveSeconds & 0xff);
        writeString(body, clientId);
        writeString(body, userName);
        writeString(body, password);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        int remaining = body.size();
        do { // MQTT's variable-length remaining length
            int digit = remaining % 128;
            remaining /= 128;
            packet.write(remaining > 0 ? digit | 0x80 : digit);
        } while (remaining > 0);
        packet.writeBytes(body.toByteArray());
        return packet.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.write(bytes.length >> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }

    @Test
    void secondConnectionWithSameIdClosesTheFirst() throws Exception {
        MqttClient first = connected("dup-dev");
        CompletableFuture<Throwable> lost = new CompletableFuture<>();
        first.setCallback(lostCallback(lost));
        MqttClient second = connected("dup-dev");
        assertNotNull(lost.get(30, TimeUnit.SECONDS));
        assertTrue(second.isConnected());
        assertTrue(waitFor(() -> hub.connections.isConnected("dup-dev", null)));
    }

    @Test
    void qos2PublishClosesTheConnection() throws Exception {
        assertClosedBy("qos2-dev", c -> c.publish("devices/qos2-dev/messages/events/", new byte[]{1}, 2, false));
    }

    @Test
    void publishToAnotherDevicesTopicClosesTheConnection() throws Exception {
        assertClosedBy("acl-dev", c -> c.publish("devices/victim/messages/events/", new byte[]{1}, 1, false));
    }

    @Test
    void subscribeToAnotherDevicesTopicClosesTheConnection() throws Exception {
        assertClosedBy("acl-sub-dev", c -> c.subscribe("devices/victim/messages/devicebound/#", 1));
    }

    @Test
    void deviceMayNotSpeakForItsModules() throws Exception {
        assertClosedBy("acl-mod-dev",
                c -> c.publish("devices/acl-mod-dev/modules/m1/messages/events/", new byte[]{1}, 1, false));
    }

    private interface ClientAction {
        void run(MqttClient client) throws Exception;
    }

    private void assertClosedBy(String clientId, ClientAction action) throws Exception {
        MqttClient client = connected(clientId);
        CompletableFuture<Throwable> lost = new CompletableFuture<>();
        client.setCallback(lostCallback(lost));
        client.setTimeToWait(10_000);
        try {
            action.run(client);
        } catch (MqttException expected) {
            // Paho reports the closed connection to the waiting call too
        }
        assertNotNull(lost.get(30, TimeUnit.SECONDS));
        assertFalse(client.isConnected());
        assertTrue(waitFor(() -> !hub.connections.isConnected(clientId, null)));
    }

    @Test
    void streamSubscriptionsAreGrantedAndStreamRequestsDelivered() throws Exception {
        MqttClient client = connected("stream-dev");
        LinkedBlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                received.add(new String[]{topic, String.valueOf(message.getPayload().length),
                        String.valueOf(message.getQos())});
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        assertTrue(hub.connections.find("stream-dev", null).orElseThrow().streamRequests().isEmpty());
        IMqttToken token = client.subscribeWithResponse(
                new String[]{StreamTopics.REQUEST_FILTER, StreamTopics.RESPONSE_FILTER}, new int[]{0, 0});
        assertArrayEquals(new int[]{0, 0}, token.getGrantedQos());

        StreamRequest request = new StreamRequest("rid-1", "s1", "stream-dev", null, "ssh",
                "wss://localhost:443/bridges/stream-dev/s1", "token_-.abc", "service_-.abc");
        hub.connections.find("stream-dev", null).orElseThrow().streamRequests().orElseThrow().deliver(request);
        String[] got = received.poll(30, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals(StreamTopics.requestTopic(request, "127.0.0.1"), got[0]);
        assertEquals("0", got[1]);
        assertEquals("0", got[2]);

        client.unsubscribe(StreamTopics.REQUEST_FILTER);
        assertTrue(hub.connections.find("stream-dev", null).orElseThrow().streamRequests().isEmpty());
    }

    @Test
    void unsupportedIotHubTopicsAreRefusedWithoutClosingAndQos2IsGrantedAsQos1() throws Exception {
        MqttClient client = connected("twin-dev");
        IMqttToken token = client.subscribeWithResponse(
                new String[]{"$iothub/nosuchfeature/res/#", "devices/twin-dev/messages/devicebound/#"}, new int[]{1, 2});
        assertEquals(0x80, token.getGrantedQos()[0]);
        assertEquals(1, token.getGrantedQos()[1], "QoS 2 is granted as QoS 1, as IoT Hub does");
        assertTrue(client.isConnected());
    }

    static MqttCallback lostCallback(CompletableFuture<Throwable> lost) {
        return new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                lost.complete(cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        };
    }

    static boolean waitFor(BooleanSupplier condition) throws InterruptedException {
        return Await.within(Duration.ofSeconds(30), condition::getAsBoolean);
    }
}
