package io.ferryhub.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClientOptions;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official Java service client (iot-service-client 2.1.9, unmodified) with a custom shared access policy's
 * connection string, the policy made with the CLI ({@code iothub policy add}): RegistryClient registers a device
 * and MessagingClient sends it a cloud-to-device message over AMQPS. A policy without RegistryWrite is refused
 * registry writes; after {@code iothub policy regenerate-key}, the old connection string is refused (401) and the
 * new one works.
 */
@Timeout(300)
class CustomPolicySdkTest {
    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static SSLContext tls;
    static String hostName;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "8883", "--amqp-port", "5671");
        hub.trustForHttpsUrlConnection();
        tls = hub.clientTls();
        hostName = hub.ownerConnectionString().split("HostName=")[1].split(";")[0];
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    /** Runs {@code scripts/iothub ARGS --data-dir D}; answers its stdout, failing with its output if it fails. */
    private static String iothub(String... args) throws Exception {
        Path repo = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
        List<String> command = new ArrayList<>(List.of(repo.resolve("scripts/iothub").toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--data-dir", dataDir.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private static String connectionString(JsonNode policy, String key) {
        return "HostName=" + hostName + ";SharedAccessKeyName=" + policy.get("keyName").asText()
                + ";SharedAccessKey=" + policy.get(key).asText();
    }

    @Test
    void aCustomPolicysConnectionStringWorksWithTheServiceSdkUntilItsKeyIsRegenerated() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode ops = json.readTree(iothub("policy", "add", "sdk-ops", "--rights",
                "RegistryRead,RegistryWrite,ServiceConnect", "--json"));
        assertEquals("RegistryRead, RegistryWrite, ServiceConnect", ops.get("rights").asText());
        String cs = connectionString(ops, "primaryKey");

        Device device = new RegistryClient(cs).addDevice(new Device("sdk-policy-device"));
        assertEquals("sdk-policy-device", new RegistryClient(cs).getDevice("sdk-policy-device").getDeviceId());

        DeviceClient deviceClient = new DeviceClient("HostName=" + hostName + ";DeviceId=sdk-policy-device;"
                + "SharedAccessKey=" + device.getPrimaryKey(), IotHubClientProtocol.AMQPS,
                ClientOptions.builder().sslContext(tls).build());
        LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
        deviceClient.setMessageCallback((message, context) -> {
            received.add(message.getMessageId());
            return IotHubMessageResult.COMPLETE;
        }, null);
        deviceClient.open(false);
        MessagingClient messaging = new MessagingClient(cs, IotHubServiceClientProtocol.AMQPS,
                MessagingClientOptions.builder().sslContext(tls).build());
        try {
            messaging.open();
            Message message = new Message("from a custom policy");
            message.setMessageId("custom-policy-1");
            messaging.send("sdk-policy-device", message);
            assertEquals("custom-policy-1", received.poll(60, TimeUnit.SECONDS));
        } finally {
            messaging.close();
            deviceClient.close();
        }

        // a ServiceConnect-only policy may not write the registry
        JsonNode service = json.readTree(iothub("policy", "add", "sdk-service-only", "--rights", "ServiceConnect",
                "--json"));
        assertThrows(IotHubUnauthorizedException.class, () -> new RegistryClient(connectionString(service,
                "primaryKey")).addDevice(new Device("not-allowed")));

        JsonNode rotated = json.readTree(iothub("policy", "regenerate-key", "sdk-ops", "--key", "primary",
                "--json"));
        assertThrows(IotHubUnauthorizedException.class, () -> new RegistryClient(cs).getDevice("sdk-policy-device"),
                "the old key is refused");
        assertEquals("sdk-policy-device", new RegistryClient(connectionString(rotated, "primaryKey"))
                .getDevice("sdk-policy-device").getDeviceId(), "the new key works");
    }
}
