package io.ferryhub.compat;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.transport.IotHubTransportMessage;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.GetTwinCorrelatingMessageCallback;
import com.microsoft.azure.sdk.iot.device.twin.ReportedPropertiesUpdateCorrelatingMessageCallback;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java device client (iot-device-client 2.5.0) over MQTT (8883), AMQPS (5671) and AMQPS_WS (443)
 * reports properties, receives desired updates, reads its twin and answers a direct method, driven by the official
 * Java service client's TwinClient and DirectMethodsClient (iot-service-client 2.1.9), both unmodified.
 */
class TwinsAndMethodsSdkTest {
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

    /**
     * Sends a twin request through the SDK's correlating API and returns the hub's response message. The SDK hands a
     * response to the request's callback from its transport thread while its receive thread, having acknowledged
     * the same message, forgets the correlation: on a loaded machine the second can win and the blocking
     * getTwin/updateReportedProperties then time out with the response in hand. Whichever of the two callbacks
     * sees the response first completes the wait here.
     */
    private static IotHubTransportMessage twinResponse(Consumer<CompletableFuture<IotHubTransportMessage>> request)
            throws Exception {
        CompletableFuture<IotHubTransportMessage> done = new CompletableFuture<>();
        request.accept(done);
        return done.get(60, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS", "AMQPS_WS"})
    void deviceClientReportsReceivesDesiredAndAnswersMethodsFromTheServiceClients(IotHubClientProtocol protocol)
            throws Exception {
        String owner = hub.ownerConnectionString();
        String deviceId = "sdk-twin-" + protocol.name().toLowerCase();
        String site = "north-" + protocol.name().toLowerCase();
        Device device = new RegistryClient(owner).addDevice(new Device(deviceId));
        String hostName = owner.split("HostName=")[1].split(";")[0];
        DeviceClient client = new DeviceClient("HostName=" + hostName + ";DeviceId=" + deviceId + ";SharedAccessKey="
                + device.getPrimaryKey(), protocol, ClientOptions.builder().sslContext(tls).build());
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
            IotHubTransportMessage update = twinResponse(done -> client.updateReportedPropertiesAsync(reported,
                    new ReportedPropertiesUpdateCorrelatingMessageCallback() {
                        @Override
                        public void onRequestQueued(Message message, Object context) {
                        }

                        @Override
                        public void onRequestSent(Message message, Object context) {
                        }

                        @Override
                        public void onRequestAcknowledged(Message message, Object context, IotHubClientException e) {
                        }

                        @Override
                        public void onResponseReceived(Message message, Object context, IotHubStatusCode status,
                                                       ReportedPropertiesUpdateResponse response,
                                                       IotHubClientException e) {
                            done.complete((IotHubTransportMessage) message);
                        }

                        @Override
                        public void onResponseAcknowledged(Message message, Object context) {
                            done.complete((IotHubTransportMessage) message);
                        }
                    }, null));
            assertEquals("204", update.getStatus());
            assertEquals(2, update.getVersion());

            TwinClient twins = new TwinClient(owner);
            Twin twin = twins.get(deviceId);
            assertEquals("2.0.1", twin.getReportedProperties().get("firmware"));
            assertEquals(2, twin.getReportedProperties().getVersion());
            assertEquals("CONNECTED", twin.getConnectionState()); // the SDK maps "Connected" to its enum

            twin.getDesiredProperties().put("telemetryInterval", 30);
            twin.getTags().put("site", site);
            Twin patched = twins.patch(twin);
            assertEquals(2, patched.getDesiredProperties().getVersion());
            assertEquals(site, patched.getTags().get("site"));

            TwinCollection desired = desiredUpdates.poll(30, TimeUnit.SECONDS);
            assertNotNull(desired, "the device client got no desired-properties update");
            assertEquals(30, ((Number) desired.get("telemetryInterval")).intValue());
            assertEquals(2, desired.getVersion());

            IotHubTransportMessage got = twinResponse(done -> client.getTwinAsync(
                    new GetTwinCorrelatingMessageCallback() {
                        @Override
                        public void onRequestQueued(Message message, Object context) {
                        }

                        @Override
                        public void onRequestSent(Message message, Object context) {
                        }

                        @Override
                        public void onRequestAcknowledged(Message message, Object context, IotHubClientException e) {
                        }

                        @Override
                        public void onResponseReceived(com.microsoft.azure.sdk.iot.device.twin.Twin twin,
                                                       Message message, Object context, IotHubStatusCode status,
                                                       IotHubClientException e) {
                            done.complete((IotHubTransportMessage) message);
                        }

                        @Override
                        public void onResponseAcknowledged(Message message, Object context) {
                            done.complete((IotHubTransportMessage) message);
                        }
                    }, null));
            assertEquals("200", got.getStatus());
            com.microsoft.azure.sdk.iot.device.twin.Twin deviceView = com.microsoft.azure.sdk.iot.device.twin.Twin
                    .createFromPropertiesJson(new String(got.getBytes(), StandardCharsets.UTF_8));
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

            TwinQueryResponse found = twins.query("SELECT * FROM devices WHERE tags.site = '" + site + "'");
            assertTrue(found.hasNext());
            assertEquals(deviceId, found.next().getDeviceId());
        } finally {
            client.close();
        }
    }
}
