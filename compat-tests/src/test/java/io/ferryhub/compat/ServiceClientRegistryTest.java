package io.ferryhub.compat;

import com.microsoft.azure.sdk.iot.service.auth.AuthenticationType;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubConflictException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubPreconditionFailedException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.DeviceConnectionState;
import com.microsoft.azure.sdk.iot.service.registry.DeviceStatus;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.registry.RegistryStatistics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official Java service client (iot-service-client 2.1.9, unmodified) manages the hub's identity registry. */
class ServiceClientRegistryTest {
    @TempDir
    static Path dataDir;
    static HubProcess hub;
    static RegistryClient registry;

    @BeforeAll
    static void start() throws Exception {
        hub = HubProcess.start(dataDir, "--mqtt-port", "0", "--amqp-port", "0");
        hub.trustForHttpsUrlConnection();
        registry = new RegistryClient(hub.ownerConnectionString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    void devicesCreateReadUpdateDelete() throws Exception {
        Device created = registry.addDevice(new Device("compat-dev"));
        assertEquals("compat-dev", created.getDeviceId());
        assertEquals(DeviceStatus.Enabled, created.getStatus());
        assertEquals(AuthenticationType.SAS, created.getAuthenticationType());
        // the SDK generates the keys of a new Device itself; the hub stores what it was given
        assertTrue(Base64.getDecoder().decode(created.getPrimaryKey()).length >= 16);
        assertFalse(created.getGenerationId().isEmpty());
        assertEquals(DeviceConnectionState.Disconnected, created.getConnectionState());

        Device read = registry.getDevice("compat-dev");
        assertEquals(created.getPrimaryKey(), read.getPrimaryKey());
        assertEquals(created.getSecondaryKey(), read.getSecondaryKey());
        assertEquals(created.getETag(), read.getETag());

        read.setStatus(DeviceStatus.Disabled);
        Device updated = registry.updateDevice(read);
        assertEquals(DeviceStatus.Disabled, updated.getStatus());
        assertNotEquals(created.getETag(), updated.getETag());
        assertEquals(created.getPrimaryKey(), updated.getPrimaryKey());

        // an enabled device beside the disabled one: the SDK must read a non-zero enabled count
        Device enabled = registry.addDevice(new Device("compat-enabled"));
        RegistryStatistics stats = registry.getStatistics();
        assertTrue(stats.getTotalDeviceCount() >= 2);
        assertTrue(stats.getDisabledDeviceCount() >= 1);
        assertTrue(stats.getEnabledDeviceCount() >= 1);
        assertEquals(stats.getTotalDeviceCount(), stats.getEnabledDeviceCount() + stats.getDisabledDeviceCount());
        registry.removeDevice(enabled);

        IotHubConflictException exists = assertThrows(IotHubConflictException.class,
                () -> registry.addDevice(new Device("compat-dev")));
        assertEquals(409001, exists.getErrorCode());

        // a stale etag on delete is refused, the current one accepted
        assertThrows(IotHubPreconditionFailedException.class, () -> registry.removeDevice(created));
        registry.removeDevice(updated);
        IotHubNotFoundException gone = assertThrows(IotHubNotFoundException.class,
                () -> registry.getDevice("compat-dev"));
        assertEquals(404001, gone.getErrorCode());
    }

    @Test
    void selfSignedDevice() throws Exception {
        Device x509 = new Device("compat-x509", AuthenticationType.SELF_SIGNED);
        String primary = "A".repeat(40);
        String secondary = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
        x509.setThumbprint(primary, secondary);
        Device created = registry.addDevice(x509);
        assertEquals(AuthenticationType.SELF_SIGNED, created.getAuthenticationType());
        assertEquals(primary, registry.getDevice("compat-x509").getPrimaryThumbprint());
        assertEquals(secondary, registry.getDevice("compat-x509").getSecondaryThumbprint());
        registry.removeDevice("compat-x509");
    }

    @Test
    void modulesCreateReadUpdateDelete() throws Exception {
        registry.addDevice(new Device("compat-mod-dev"));
        Module module = registry.addModule(new Module("compat-mod-dev", "m1"));
        assertEquals("m1", module.getId());
        assertEquals("compat-mod-dev", module.getDeviceId());
        assertEquals(module.getPrimaryKey(), registry.getModule("compat-mod-dev", "m1").getPrimaryKey());
        registry.addModule(new Module("compat-mod-dev", "m2"));
        List<Module> modules = registry.getModulesOnDevice("compat-mod-dev");
        assertEquals(List.of("m1", "m2"), modules.stream().map(Module::getId).sorted().toList());

        com.microsoft.azure.sdk.iot.service.auth.SymmetricKey keys = new com.microsoft.azure.sdk.iot.service.auth.SymmetricKey();
        String newKey = Base64.getEncoder().encodeToString(new byte[32]);
        keys.setPrimaryKey(newKey);
        keys.setSecondaryKey(module.getSecondaryKey());
        module.setSymmetricKey(keys);
        assertEquals(newKey, registry.updateModule(module).getPrimaryKey());

        registry.removeModule("compat-mod-dev", "m1");
        IotHubNotFoundException gone = assertThrows(IotHubNotFoundException.class,
                () -> registry.getModule("compat-mod-dev", "m1"));
        assertEquals(404010, gone.getErrorCode());
        registry.removeDevice("compat-mod-dev");
    }

    @Test
    void aReadOnlyPolicyCannotWrite() throws Exception {
        RegistryClient reader = new RegistryClient(policyConnectionString("registryRead"));
        registry.addDevice(new Device("compat-ro"));
        assertEquals("compat-ro", reader.getDevice("compat-ro").getDeviceId());
        IotHubUnauthorizedException refused = assertThrows(IotHubUnauthorizedException.class,
                () -> reader.addDevice(new Device("compat-ro-2")));
        assertEquals(401002, refused.getErrorCode());
        registry.removeDevice("compat-ro");
    }

    /** A policy's connection string as {@code iothub policy list} prints it. */
    private static String policyConnectionString(String name) throws Exception {
        Process cli = new ProcessBuilder(Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent()
                .resolve("scripts/iothub").toString(), "policy", "list", "--data-dir", dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String table = new String(cli.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, cli.waitFor(), table);
        return table.lines().filter(l -> l.startsWith(name + " ")).findFirst()
                .map(l -> l.substring(l.indexOf("HostName="))).orElseThrow(() -> new AssertionError(table));
    }
}
