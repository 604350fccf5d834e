package io.ferryhub.compat;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackRecord;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClientOptions;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClientOptions;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import java.time.Duration;

/**
 * The official Java service client (iot-service-client 2.1.9, unmodified): MessagingClient sends cloud-to-device
 * messages over AMQPS (5671) with full acknowledgement, the official device client takes them over AMQPS and
 * completes one and rejects the other, and MessageFeedbackProcessorClient reads both outcomes as feedback.
 */
class ServiceMessagingSdkTest {
    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671");
        hub.trustForHttpsUrlConnection();
        tls = hub.clientTls();
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    void messagingClientSendsWithFullAckAndFeedbackComesBack() throws Exception {
        String owner = hub.ownerConnectionString();
        String hostName = owner.split("HostName=")[1].split(";")[0];
        Device device = new RegistryClient(owner).addDevice(new Device("sdk-c2d"));
        DeviceClient deviceClient = new DeviceClient("HostName=" + hostName + ";DeviceId=sdk-c2d;SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.AMQPS, ClientOptions.builder().sslContext(tls).build());
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        deviceClient.setMessageCallback((message, context) -> {
            received.add(message.getMessageId());
            return "reject-me".equals(message.getMessageId()) ? IotHubMessageResult.REJECT
                    : IotHubMessageResult.COMPLETE;
        }, null);
        deviceClient.open(false);

        Map<String, String> feedback = new ConcurrentHashMap<>();
        MessageFeedbackProcessorClient feedbackClient = new MessageFeedbackProcessorClient(owner,
                IotHubServiceClientProtocol.AMQPS, batch -> {
                    for (FeedbackRecord r : batch.getRecords()) {
                        feedback.put(r.getOriginalMessageId(), r.getStatusCode().name());
                    }
                    return AcknowledgementType.COMPLETE;
                }, MessageFeedbackProcessorClientOptions.builder().sslContext(tls).build());
        MessagingClient messaging = new MessagingClient(owner, IotHubServiceClientProtocol.AMQPS,
                MessagingClientOptions.builder().sslContext(tls).build());
        try {
            messaging.open();
            for (String id : new String[]{"complete-me", "reject-me"}) {
                Message message = new Message("payload of " + id);
                message.setMessageId(id);
                message.setDeliveryAcknowledgement(DeliveryAcknowledgement.Full);
                messaging.send("sdk-c2d", message); // returns once the hub accepted it
            }
            assertEquals("complete-me", received.poll(30, TimeUnit.SECONDS));
            assertEquals("reject-me", received.poll(30, TimeUnit.SECONDS));

            feedbackClient.start();
            Await.within(Duration.ofSeconds(30), () -> feedback.size() >= 2);
            assertEquals("success", feedback.get("complete-me"), feedback.toString());
            assertEquals("rejected", feedback.get("reject-me"), feedback.toString());
        } finally {
            feedbackClient.stop();
            messaging.close();
            deviceClient.close();
        }
    }
}
