package io.ferryhub.compat;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.ReportedPropertiesUpdateResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubPreconditionFailedException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.query.TwinQueryResponse;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java device client (iot-device-client 2.5.0, MQTT) reports properties, receives desired updates and
 * answers a direct method, driven by the official Java service client's TwinClient and DirectMethodsClient
 * (iot-service-client 2.1.9), both unmodified.
 */
class TwinsAndMethodsSdkTest {
    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static SSLContext tls;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "0");
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
    void deviceClientReportsReceivesDesiredAndAnswersMethodsFromTheServiceClients() throws Exception {
        String owner = hub.ownerConnectionString();
        String deviceId = "sdk-twin";
        Device device = new RegistryClient(owner).addDevice(new Device(deviceId));
        String hostName = owner.split("HostName=")[1].split(";")[0];
        DeviceClient client = new DeviceClient("HostName=" + hostName + ";DeviceId=" + deviceId + ";SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.MQTT, ClientOptions.builder().sslContext(tls).build());
        LinkedBlockingQueue<TwinCollection> desiredUpdates = new LinkedBlockingQueue<>();
        List<String> methodsCalled = new ArrayList<>();
        client.open(false);
        try {
            client.subscribeToMethods((methodName, payload, context) -> {
                methodsCalled.add(methodName);
                return new DirectMethodResponse(200, Map.of("rebooted", true,
                        "asked", payload.getPayloadAsJsonString()));
            }, null);
            client.subscribeToDesiredProperties((twin, context) -> desiredUpdates.add(twin.getDesiredProperties()),
                    null);

            TwinCollection reported = new TwinCollection();
            reported.put("firmware", "2.0.1");
            reported.put("battery", Map.of("level", 87));
            ReportedPropertiesUpdateResponse update = client.updateReportedProperties(reported);
            assertEquals(2, update.getVersion());

            TwinClient twins = new TwinClient(owner);
            Twin twin = twins.get(deviceId);
            assertEquals("2.0.1", twin.getReportedProperties().get("firmware"));
            assertEquals(2, twin.getReportedProperties().getVersion());
            assertEquals("CONNECTED", twin.getConnectionState()); // the SDK maps "Connected" to its enum

            twin.getDesiredProperties().put("telemetryInterval", 30);
            twin.getTags().put("site", "north");
            Twin patched = twins.patch(twin);
            assertEquals(2, patched.getDesiredProperties().getVersion());
            assertEquals("north", patched.getTags().get("site"));

            TwinCollection desired = desiredUpdates.poll(30, TimeUnit.SECONDS);
            assertNotNull(desired, "the device client got no desired-properties update");
            assertEquals(30, ((Number) desired.get("telemetryInterval")).intValue());
            assertEquals(2, desired.getVersion());

            com.microsoft.azure.sdk.iot.device.twin.Twin deviceView = client.getTwin();
            assertEquals(30, ((Number) deviceView.getDesiredProperties().get("telemetryInterval")).intValue());
            assertEquals("2.0.1", deviceView.getReportedProperties().get("firmware"));

            Twin stale = twins.get(deviceId);
            stale.getTags().put("site", "south");
            // patch(twin) sends If-Match: *; the etag overload sends the one given
            assertThrows(IotHubPreconditionFailedException.class, () -> twins.patch(stale, "AAAAAAAAAAk="));

            var answer = new DirectMethodsClient(owner).invoke(deviceId, "reboot", DirectMethodRequestOptions
                    .builder().payload(Map.of("delay", 5)).methodResponseTimeoutSeconds(30).build());
            assertEquals(200, answer.getStatus());
            assertTrue(answer.getPayloadAsJsonString().contains("\"rebooted\":true"), answer.getPayloadAsJsonString());
            assertEquals(List.of("reboot"), methodsCalled);

            TwinQueryResponse found = twins.query("SELECT * FROM devices WHERE tags.site = 'north'");
            assertTrue(found.hasNext());
            assertEquals(deviceId, found.next().getDeviceId());
        } finally {
            client.close();
        }
    }
}
