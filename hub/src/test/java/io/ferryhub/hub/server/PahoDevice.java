package io.ferryhub.hub.server;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Eclipse Paho as a device or module ({@code device/module}) of a test hub, with what it received in a queue. */
final class PahoDevice implements AutoCloseable {
    record Received(String topic, String payload) {
    }

    final MqttClient client;
    final LinkedBlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    /** What the CONNACK said: whether the hub resumed a stored session. */
    boolean sessionPresent;

    private PahoDevice(MqttClient client) {
        this.client = client;
    }

    /** Registers the identity if needed and connects it on a clean session. */
    static PahoDevice connect(HubServer hub, String clientId) throws Exception {
        return connect(hub, clientId, true);
    }

    /** Registers the identity if needed and connects it; {@code cleanSession} false asks for a persistent session. */
    static PahoDevice connect(HubServer hub, String clientId, boolean cleanSession) throws Exception {
        String[] ids = clientId.split("/", 2);
        if (hub.registry().findDevice(ids[0]).isEmpty()) {
            hub.registry().putDevice(ids[0], new Device(ids[0], null, null, null, null, null, null, false, null,
                    null), null);
        }
        String key;
        if (ids.length == 1) {
            key = hub.registry().device(ids[0]).authentication().symmetricKey().primaryKey();
        } else {
            key = hub.registry().findModule(ids[0], ids[1]).orElseGet(() -> hub.registry().putModule(ids[0], ids[1],
                    new Module(ids[0], ids[1], null, null, null, null), null)).authentication().symmetricKey()
                    .primaryKey();
        }
        return connect(hub.mqttPort(), hub.caCertificatePath(), hub.hostName(), clientId, key, cleanSession);
    }

    /** Connects an identity already registered to a hub known by its MQTT port and CA (one in another process). */
    static PahoDevice connect(int mqttPort, Path caPem, String hubHostName, String clientId, String key,
                              boolean cleanSession) throws Exception {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(cleanSession);
        options.setSocketFactory(HubTestSupport.trusting(caPem).getSocketFactory());
        options.setUserName("localhost/" + clientId + "/?api-version=2021-04-12");
        String resource = hubHostName + "/devices/" + clientId.replace("/", "/modules/");
        options.setPassword(SasToken.create(resource, key, null, Instant.now().plusSeconds(3600)).toCharArray());
        options.setMaxInflight(1000);
        MqttClient client = new MqttClient("ssl://localhost:" + mqttPort, clientId, new MemoryPersistence());
        PahoDevice device = new PahoDevice(client);
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                device.inbox.add(new Received(topic, new String(message.getPayload(), StandardCharsets.UTF_8)));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        device.sessionPresent = client.connectWithResult(options).getSessionPresent();
        return device;
    }

    void subscribe(String... filters) throws Exception {
        int[] qos = new int[filters.length];
        Arrays.fill(qos, 1);
        client.subscribe(filters, qos);
    }

    void publish(String topic, String payload) throws Exception {
        client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
    }

    /** The next message received, failing the test if none comes within 10 s. */
    Received next() throws InterruptedException {
        Received r = inbox.poll(30, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("nothing received within 10 s");
        }
        return r;
    }

    @Override
    public void close() throws Exception {
        if (client.isConnected()) {
            client.disconnectForcibly(0, 1000);
        }
        client.close(true);
    }
}
