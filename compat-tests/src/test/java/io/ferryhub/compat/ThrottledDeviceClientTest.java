package io.ferryhub.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import io.ferryhub.testsupport.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java device client (iot-device-client 2.5.0) against a hub throttling device-to-cloud messages far
 * below what the client sends: over HTTPS it gets 429 ThrottlingException (its THROTTLED, which it retries), over
 * MQTT the hub closes the connection instead of acknowledging (the client reconnects and resends), over AMQP the
 * delivery is rejected with com.microsoft:device-container-throttled (retried). Every message is delivered in the
 * end, exactly as sent, and the hub counted throttled sends while it happened.
 */
@Timeout(300)
class ThrottledDeviceClientTest {
    private static final String API = "api-version=2021-04-12";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MESSAGES = 8;

    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static HttpClient http;
    static OwnerCredentials owner;
    static int metricsPort;

    @BeforeAll
    static void start() throws Exception {
        try (ServerSocket free = new ServerSocket(0)) {
            metricsPort = free.getLocalPort();
        }
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671", "--throttle", "d2c=2/s",
                "--metrics-port", Integer.toString(metricsPort));
        hub.trustForHttpsUrlConnection();
        http = HttpClient.newBuilder().sslContext(hub.clientTls()).connectTimeout(Duration.ofSeconds(10)).build();
        owner = OwnerCredentials.parse(hub.ownerConnectionString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"HTTPS", "MQTT", "AMQPS"})
    void theClientRetriesThrottledTelemetryUntilEveryMessageIsDelivered(IotHubClientProtocol protocol)
            throws Exception {
        String deviceId = "throttled-" + protocol.name().toLowerCase();
        Device device = new RegistryClient(hub.ownerConnectionString()).addDevice(new Device(deviceId));
        DeviceClient client = new DeviceClient("HostName=" + owner.hostName() + ";DeviceId=" + deviceId
                + ";SharedAccessKey=" + device.getPrimaryKey(), protocol,
                ClientOptions.builder().sslContext(hub.clientTls()).build());
        long throttledBefore = throttledD2c();
        Map<String, IotHubStatusCode> outcomes = new ConcurrentHashMap<>();
        client.open(false);
        try {
            for (int i = 0; i < MESSAGES; i++) {
                Message message = new Message("{\"n\":" + i + "}");
                message.setMessageId(deviceId + "-" + i);
                client.sendEventAsync(message, (sent, failure, context) -> outcomes.put(sent.getMessageId(),
                        failure == null ? IotHubStatusCode.OK : failure.getStatusCode()), null);
            }
            Await.until("the client reports every message sent", Duration.ofSeconds(240),
                    () -> outcomes.size() == MESSAGES);
        } finally {
            client.close();
        }
        outcomes.forEach((id, status) -> assertEquals(IotHubStatusCode.OK, status, id));
        assertTrue(throttledD2c() > throttledBefore, "the hub throttled none of the sends: the test proves nothing");

        Map<String, String> bodies = eventsOf(deviceId);
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < MESSAGES; i++) {
            expected.add(deviceId + "-" + i);
            assertEquals("{\"n\":" + i + "}", bodies.get(deviceId + "-" + i), "message " + i);
        }
        assertEquals(expected, bodies.keySet());
    }

    /** Device-to-cloud sends the hub refused with 429001 so far, from its metrics. */
    private static long throttledD2c() throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("ferryhub_throttled_operations_total\\{class=\"d2c\"} ([0-9.]+)")
                .matcher(metrics.body());
        assertTrue(m.find(), metrics.body());
        return (long) Double.parseDouble(m.group(1));
    }

    /** The device's messages in the event stream: message id to body (a resent duplicate keeps one entry). */
    private static Map<String, String> eventsOf(String deviceId) throws Exception {
        Map<String, String> bodies = new HashMap<>();
        for (JsonNode partition : get("/messages/events/partitions")) {
            String from = "earliest";
            while (true) {
                JsonNode batch = get("/messages/events/partitions/" + partition.path("partitionId").asText()
                        + "?from=" + URLEncoder.encode(from, StandardCharsets.UTF_8) + "&max=1000&waitSeconds=0");
                if (batch.path("events").isEmpty()) {
                    break;
                }
                for (JsonNode event : batch.path("events")) {
                    if (deviceId.equals(event.path("systemProperties").path("iothub-connection-device-id")
                            .asText())) {
                        bodies.put(event.path("systemProperties").path("message-id").asText(),
                                new String(Base64.getDecoder().decode(event.path("body").asText()),
                                        StandardCharsets.UTF_8));
                    }
                }
                from = "offset:" + batch.path("nextOffset").asText();
            }
        }
        return bodies;
    }

    private static JsonNode get(String pathAndQuery) throws Exception {
        String separator = pathAndQuery.contains("?") ? "&" : "?";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("https://"
                        + owner.hostName() + pathAndQuery + separator + API))
                        .header("Authorization", owner.sasToken()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }
}
