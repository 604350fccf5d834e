package io.ferryhub.hub.service.registry;

import io.ferryhub.hub.service.connection.FakeDeviceLink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry's rules on a journal store: generated keys, etags, cut-offs, deletion hooks and bulk operations. */
class RegistryServiceTest {
    @TempDir
    Path dir;
    private JournalStore store;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private DeviceConnections connections;
    private RegistryService registry;
    private final List<String> deleted = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        store = JournalStore.open(dir);
        connections = new DeviceConnections(timer);
        registry = new RegistryService(new KeyValueRegistryStore(store), connections, new ConnectionStates());
        registry.addLifecycleListener(new IdentityLifecycleListener() {
            @Override
            public void deviceDeleted(String deviceId) {
                deleted.add(deviceId);
            }

            @Override
            public void moduleDeleted(String deviceId, String moduleId) {
                deleted.add(deviceId + "/" + moduleId);
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        store.close();
    }

    private static Device request(String id, String status, Authentication auth) {
        return new Device(id, null, null, status, null, null, auth, false, null, null);
    }

    @Test
    void aNewDeviceGetsKeysAGenerationAnEtagAndIsEnabled() {
        Device d = registry.putDevice("d1", request(null, null, null), null);
        assertTrue(d.isEnabled());
        assertTrue(d.authentication().isSas());
        assertEquals(32, Base64.getDecoder().decode(d.authentication().symmetricKey().primaryKey()).length);
        assertNotEquals(d.authentication().symmetricKey().primaryKey(), d.authentication().symmetricKey().secondaryKey());
        assertTrue(d.generationId() != null && d.etag() != null);
        assertEquals(d, registry.device("d1"));
        assertEquals(HubErrorCode.DeviceAlreadyExists, assertThrows(HubException.class,
                () -> registry.putDevice("d1", request(null, null, null), null)).errorCode());
    }

    @Test
    void updatesNeedTheEtagAndAChangeGetsANewOne() {
        Device d = registry.putDevice("d1", request(null, null, null), null);
        Device disabled = registry.putDevice("d1", request("d1", Device.DISABLED, d.authentication()), d.etag());
        assertFalse(disabled.isEnabled());
        assertNotEquals(d.etag(), disabled.etag());
        assertEquals(d.generationId(), disabled.generationId(), "an update keeps the identity's generation");
        assertEquals(HubErrorCode.PreconditionFailed, assertThrows(HubException.class,
                () -> registry.putDevice("d1", request("d1", null, d.authentication()), d.etag())).errorCode());
        assertEquals(HubErrorCode.DeviceNotFound, assertThrows(HubException.class,
                () -> registry.putDevice("nobody", request(null, null, null), "*")).errorCode());
        assertEquals(HubErrorCode.ArgumentInvalid, assertThrows(HubException.class,
                () -> registry.putDevice("d1", request("other", null, null), "*")).errorCode());
    }

    @Test
    void disablingOrReKeyingCutsLiveConnectionsAndDeletingCutsAndNotifies() {
        Device d = registry.putDevice("d1", request(null, null, null), null);
        registry.putModule("d1", "m1", new Module("d1", "m1", null, null, null, null), null);
        FakeDeviceLink link = new FakeDeviceLink("d1");
        connections.register(link);
        Device rekeyed = registry.putDevice("d1", request("d1", null, Authentication.sas(
                Base64.getEncoder().encodeToString(new byte[32]), d.authentication().symmetricKey().secondaryKey())),
                "*");
        assertEquals(HubErrorCode.IotHubUnauthorizedAccess, link.closedWith);
        FakeDeviceLink again = new FakeDeviceLink("d1");
        connections.register(again);
        registry.putDevice("d1", request("d1", null, rekeyed.authentication()), "*");
        assertNull(again.closedWith, "an update that changes neither status nor credentials keeps connections");
        registry.deleteDevice("d1", null);
        assertEquals(HubErrorCode.DeviceNotFound, again.closedWith);
        assertTrue(registry.findDevice("d1").isEmpty());
        assertTrue(registry.findModule("d1", "m1").isEmpty(), "modules go with their device");
        assertTrue(deleted.contains("d1"), deleted.toString());
    }

    @Test
    void statisticsAndPagingFollowTheStore() {
        for (String id : new String[] {"c", "a", "b"}) {
            registry.putDevice(id, request(null, "b".equals(id) ? Device.DISABLED : null, null), null);
        }
        assertEquals(new RegistryStatistics(3, 2, 1), registry.statistics());
        assertEquals(List.of("a", "b"), registry.devices(null, 2).stream().map(Device::deviceId).toList());
        assertEquals(List.of("c"), registry.devices("b", 10).stream().map(Device::deviceId).toList());
    }

    @Test
    void bulkOperationsReportFailuresPerDevice() {
        Device a = registry.putDevice("a", request(null, null, null), null);
        registry.putDevice("b", request(null, null, null), null);
        List<BulkOperation.Failure> failures = registry.bulk(List.of(
                new BulkOperation("a", BulkOperation.Mode.CREATE, null, request("a", null, null)),
                new BulkOperation("n", BulkOperation.Mode.CREATE, null, request("n", null, null)),
                new BulkOperation("b", BulkOperation.Mode.DELETE_IF_MATCH_ETAG, "wrong", null)));
        assertEquals(List.of("a", "b"), failures.stream().map(BulkOperation.Failure::deviceId).toList());
        assertEquals(List.of(HubErrorCode.DeviceAlreadyExists, HubErrorCode.PreconditionFailed),
                failures.stream().map(BulkOperation.Failure::errorCode).toList());
        assertTrue(registry.findDevice("n").isPresent());
        assertTrue(registry.findDevice("b").isPresent());
        assertEquals(a.etag(), registry.device("a").etag());
        HubException twice = assertThrows(HubException.class, () -> registry.bulk(List.of(
                new BulkOperation("x", BulkOperation.Mode.CREATE, null, request("x", null, null)),
                new BulkOperation("x", BulkOperation.Mode.DELETE, null, null))));
        assertEquals(HubErrorCode.DeviceDefinedMultipleTimes, twice.errorCode());
        assertEquals(BulkOperation.Mode.CREATE_OR_UPDATE, BulkOperation.Mode.parse(null));
        assertEquals(BulkOperation.Mode.UPDATE_IF_MATCH_ETAG, BulkOperation.Mode.parse("UPDATEIFMATCHETAG"));
        assertThrows(HubException.class, () -> BulkOperation.Mode.parse("upsert"));
    }
}
