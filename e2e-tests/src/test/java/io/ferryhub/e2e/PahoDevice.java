package io.ferryhub.e2e;

import io.ferryhub.common.sas.ConnectionString;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A device played by Paho, an MQTT client we did not write, subscribed to stream requests as the C SDK does. */
final class PahoDevice implements AutoCloseable {
    final MqttClient client;
    final BlockingQueue<String> requestTopics = new LinkedBlockingQueue<>();

    PahoDevice(ConnectionString device, int port, SSLContext tls) throws MqttException {
        String clientId = device.deviceId().orElseThrow() + device.moduleId().map(m -> "/" + m).orElse("");
        client = new MqttClient("ssl://" + device.hostName() + ":" + port, clientId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(true);
        options.setUserName(device.hostName() + "/" + clientId + "/?api-version=2017-11-08-preview");
        options.setPassword(device.sasToken(Instant.now().plusSeconds(3600)).toCharArray());
        options.setSocketFactory(tls.getSocketFactory());
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                requestTopics.add(topic);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        client.connect(options);
        client.subscribe(new String[] {"$iothub/streams/POST/#", "$iothub/streams/res/#"}, new int[] {0, 0});
    }

    String nextRequest() throws InterruptedException {
        String topic = requestTopics.poll(30, TimeUnit.SECONDS);
        if (topic == null) {
            throw new IllegalStateException("no stream request arrived");
        }
        return topic;
    }

    void answer(String requestId, int status) throws MqttException {
        client.publish("$iothub/streams/res/" + status + "/?$rid=" + requestId,
                "".getBytes(StandardCharsets.UTF_8), 0, false);
    }

    @Override
    public void close() throws MqttException {
        if (client.isConnected()) {
            client.disconnect(1000);
        }
        client.close();
    }
}
