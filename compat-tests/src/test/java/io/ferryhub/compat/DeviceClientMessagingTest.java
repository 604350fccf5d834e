package io.ferryhub.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The official Java device client (iot-device-client 2.5.0, unmodified) over MQTT (port 8883), AMQPS (5671),
 * both over WebSockets (port 443) and HTTPS (443) sends telemetry, read back from the event stream, and receives
 * cloud-to-device messages, completing, abandoning and rejecting them where the protocol allows.
 */
class DeviceClientMessagingTest {
    private static final String API = "api-version=2021-04-12";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static SSLContext tls;
    static HttpClient http;
    static OwnerCredentials owner;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671");
        hub.trustForHttpsUrlConnection();
        tls = hub.clientTls();
        http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
        owner = OwnerCredentials.parse(hub.ownerConnectionString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "MQTT_WS", "AMQPS", "AMQPS_WS", "HTTPS"})
    void deviceClientSendsTelemetryAndReceivesCloudToDeviceMessages(IotHubClientProtocol protocol) throws Exception {
        String deviceId = "sdk-" + protocol.name().toLowerCase().replace('_', '-');
        Device device = new RegistryClient(hub.ownerConnectionString()).addDevice(new Device(deviceId));
        String connectionString = "HostName=" + owner.hostName() + ";DeviceId=" + deviceId
                + ";SharedAccessKey=" + device.getPrimaryKey();
        ClientOptions.ClientOptionsBuilder options = ClientOptions.builder().sslContext(tls);
        if (protocol == IotHubClientProtocol.HTTPS) {
            options.receiveInterval(500); // HTTPS devices poll for C2D; the SDK's default period is long
        }
        DeviceClient client = new DeviceClient(connectionString, protocol, options.build());
        LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
        client.setMessageCallback((message, context) -> {
            received.add(message);
            return IotHubMessageResult.COMPLETE;
        }, null);
        client.open(false);
        try {
            Message telemetry = new Message("{\"temperature\":21.5}");
            telemetry.setMessageId("mid-" + deviceId);
            telemetry.setContentType("application/json");
            telemetry.setProperty("alert", "no");
            client.sendEvent(telemetry); // returns once the hub acknowledged it

            JsonNode event = findEvent("mid-" + deviceId);
            assertNotNull(event, "the telemetry is not in the event stream");
            assertEquals("{\"temperature\":21.5}",
                    new String(Base64.getDecoder().decode(event.path("body").asText()), StandardCharsets.UTF_8));
            assertEquals(deviceId, event.path("systemProperties").path("iothub-connection-device-id").asText());
            assertEquals("application/json", event.path("systemProperties").path("content-type").asText());
            assertEquals("no", event.path("properties").path("alert").asText());

            HttpResponse<String> sent = http.send(HttpRequest.newBuilder(
                            URI.create(baseUrl() + "/devices/" + deviceId + "/messages/deviceBound?" + API))
                    .header("Authorization", owner.sasToken())
                    .header("iothub-messageid", "c2d-" + deviceId)
                    .header("iothub-correlationid", "corr-7")
                    .header("iothub-app-color", "blue")
                    .POST(HttpRequest.BodyPublishers.ofString("switch on")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, sent.statusCode(), sent.body());
            Message c2d = received.poll(30, TimeUnit.SECONDS);
            assertNotNull(c2d, "the device client received no cloud-to-device message");
            assertEquals("switch on", new String(c2d.getBytes(), StandardCharsets.UTF_8));
            assertEquals("c2d-" + deviceId, c2d.getMessageId());
            assertEquals("corr-7", c2d.getCorrelationId());
            assertEquals("blue", c2d.getProperty("color"));
        } finally {
            client.close();
        }
    }

    /**
     * IoT Hub lets AMQP and HTTPS devices abandon (the message comes back) and reject (it is dead-lettered) a
     * cloud-to-device message; MQTT has no such answer. The device's queue must end empty, the abandoned message
     * delivered twice and the rejected one once.
     */
    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"AMQPS", "AMQPS_WS", "HTTPS"})
    void deviceClientAbandonsAndRejectsCloudToDeviceMessages(IotHubClientProtocol protocol) throws Exception {
        String deviceId = "sdk-settle-" + protocol.name().toLowerCase().replace('_', '-');
        Device device = new RegistryClient(hub.ownerConnectionString()).addDevice(new Device(deviceId));
        String connectionString = "HostName=" + owner.hostName() + ";DeviceId=" + deviceId
                + ";SharedAccessKey=" + device.getPrimaryKey();
        ClientOptions.ClientOptionsBuilder options = ClientOptions.builder().sslContext(tls);
        if (protocol == IotHubClientProtocol.HTTPS) {
            options.receiveInterval(500);
        }
        DeviceClient client = new DeviceClient(connectionString, protocol, options.build());
        LinkedBlockingQueue<String> deliveries = new LinkedBlockingQueue<>();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        client.setMessageCallback((message, context) -> {
            String id = message.getMessageId();
            deliveries.add(id);
            int times = seen.merge(id, 1, Integer::sum);
            if (id.startsWith("reject")) {
                return IotHubMessageResult.REJECT;
            }
            return id.startsWith("abandon") && times == 1 ? IotHubMessageResult.ABANDON : IotHubMessageResult.COMPLETE;
        }, null);
        client.open(false);
        try {
            sendCloudToDevice(deviceId, "abandon-" + deviceId, "first try fails");
            sendCloudToDevice(deviceId, "reject-" + deviceId, "never wanted");
            Await.within(Duration.ofSeconds(30),
                    () -> get("/devices/" + deviceId).path("cloudToDeviceMessageCount").asInt() == 0);
            assertEquals(0, get("/devices/" + deviceId).path("cloudToDeviceMessageCount").asInt(),
                    "messages left in the queue; deliveries: " + deliveries);
            assertEquals(2, seen.getOrDefault("abandon-" + deviceId, 0), "deliveries: " + deliveries);
            assertEquals(1, seen.getOrDefault("reject-" + deviceId, 0), "deliveries: " + deliveries);
        } finally {
            client.close();
        }
    }

    private static void sendCloudToDevice(String deviceId, String messageId, String body) throws Exception {
        HttpResponse<String> sent = http.send(HttpRequest.newBuilder(
                        URI.create(baseUrl() + "/devices/" + deviceId + "/messages/deviceBound?" + API))
                .header("Authorization", owner.sasToken())
                .header("iothub-messageid", messageId)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sent.statusCode(), sent.body());
    }

    private static String baseUrl() {
        return "https://" + owner.hostName() + ":443";
    }

    /** Reads every partition from the start and returns the event with this message id, or null. */
    private static JsonNode findEvent(String messageId) throws Exception {
        JsonNode partitions = get("/messages/events/partitions");
        for (JsonNode partition : partitions) {
            String from = "earliest";
            while (true) {
                JsonNode batch = get("/messages/events/partitions/" + partition.path("partitionId").asText()
                        + "?from=" + URLEncoder.encode(from, StandardCharsets.UTF_8) + "&max=1000&waitSeconds=0");
                if (batch.path("events").isEmpty()) {
                    break;
                }
                for (JsonNode event : batch.path("events")) {
                    if (messageId.equals(event.path("systemProperties").path("message-id").asText())) {
                        return event;
                    }
                }
                from = "offset:" + batch.path("nextOffset").asText();
            }
        }
        return null;
    }

    private static JsonNode get(String pathAndQuery) throws Exception {
        String separator = pathAndQuery.contains("?") ? "&" : "?";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + pathAndQuery
                        + separator + API)).header("Authorization", owner.sasToken()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }
}
