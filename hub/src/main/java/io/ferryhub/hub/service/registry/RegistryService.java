package io.ferryhub.hub.service.registry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.service.Etags;
import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.storage.registry.RegistryStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The identity registry: IoT Hub's rules for creating, replacing and deleting devices and modules. Writes to one
 * device (and its modules) are serialised by a striped lock held until the write is durable, so etag checks and
 * "already exists" checks cannot race. Disabling, deleting or re-keying an identity cuts its live connections.
 */
public final class RegistryService {
    private static final Logger log = LoggerFactory.getLogger(RegistryService.class);
    public static final int MAX_MODULES_PER_DEVICE = 50;
    /** IoT Hub's limit on one bulk registry request. */
    public static final int MAX_BULK = 100;
    private static final int LOCK_STRIPES = 1024;

    private final RegistryStore store;
    private final DeviceConnections connections;
    private final ConnectionStates states;
    private final ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];
    private final List<IdentityLifecycleListener> lifecycleListeners = new CopyOnWriteArrayList<>();

    public RegistryService(RegistryStore store, DeviceConnections connections, ConnectionStates states) {
        this.store = store;
        this.connections = connections;
        this.states = states;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** Features whose state belongs to identities (twins) follow deletions through this. */
    public void addLifecycleListener(IdentityLifecycleListener listener) {
        lifecycleListeners.add(listener);
    }

    private void deviceDeleted(String deviceId) {
        lifecycleListeners.forEach(l -> l.deviceDeleted(deviceId));
    }

    private void revoked(String deviceId, String moduleId, IdentityLifecycleListener.Revocation why) {
        lifecycleListeners.forEach(l -> l.revoked(deviceId, moduleId, why));
    }

    public ConnectionStates connectionStates() {
        return states;
    }

    // ---- devices

    /**
     * {@code PUT /devices/{id}}: creates the device when {@code ifMatch} is null, otherwise replaces it if the etag
     * matches ({@code *} matches any).
     *
     * @param request the device as sent; read-only fields are ignored, missing keys are generated
     */
    public Device putDevice(String deviceId, Device request, String ifMatch) {
        IdentityRules.checkDeviceId(deviceId);
        if (request.deviceId() != null && !request.deviceId().equals(deviceId)) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the deviceId in the body ('"
                    + IdentityRules.abbreviate(request.deviceId()) + "') differs from the one in the path");
        }
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            Optional<Device> existing = store.device(deviceId);
            if (ifMatch == null) {
                if (existing.isPresent()) {
                    throw new HubException(HubErrorCode.DeviceAlreadyExists,
                            "A device with id '" + deviceId + "' already exists");
                }
                Device created = newDevice(deviceId, request);
                StorageWrites.await(store.putDevice(created), "the registry change");
                log.info("device {} created ({} authentication, {})", deviceId, created.authentication().type(),
                        created.status());
                return created;
            }
            Device current = existing.orElseThrow(() -> deviceNotFound(deviceId));
            Etags.check(ifMatch, current.etag());
            Device updated = replacedDevice(current, request);
            StorageWrites.await(store.putDevice(updated), "the registry change");
            String cutReason = cutReason(current.isEnabled(), updated.isEnabled(), current.authentication(),
                    updated.authentication());
            log.info("device {} updated ({} authentication, {}){}", deviceId, updated.authentication().type(),
                    updated.status(), cutReason == null ? "" : "; " + cutReason + ": cutting its connections");
            if (cutReason != null) {
                connections.disconnectDevice(deviceId, HubErrorCode.IotHubUnauthorizedAccess);
                revoked(deviceId, null, revocation(current, updated));
            }
            return updated;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Disables a device, with {@code reason} as its status reason, cutting its connections; nothing happens when it
     * does not exist or is disabled already (an operator's reason is kept).
     */
    public void disableDevice(String deviceId, String reason) {
        Optional<Device> current = store.device(deviceId);
        if (current.isEmpty() || !current.get().isEnabled()) {
            return;
        }
        Device d = current.get();
        putDevice(deviceId, new Device(d.deviceId(), d.generationId(), d.etag(), Device.DISABLED, reason,
                d.statusUpdatedTime(), d.authentication(), d.iotEdge(), d.deviceScope(), d.parentScopes()), d.etag());
    }

    public Device device(String deviceId) {
        return findDevice(deviceId).orElseThrow(() -> deviceNotFound(deviceId));
    }

    public Optional<Device> findDevice(String deviceId) {
        return deviceId == null ? Optional.empty() : store.device(deviceId);
    }

    public void deleteDevice(String deviceId, String ifMatch) {
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            Device current = store.device(deviceId).orElseThrow(() -> deviceNotFound(deviceId));
            if (ifMatch != null) {
                Etags.check(ifMatch, current.etag());
            }
            List<Module> modules = store.modules(deviceId);
            StorageWrites.await(store.deleteDevice(deviceId), "the registry change");
            log.info("device {} deleted (with {} modules); cutting its connections", deviceId, modules.size());
            connections.disconnectDevice(deviceId, HubErrorCode.DeviceNotFound);
            states.forget(deviceId, null);
            modules.forEach(m -> states.forget(deviceId, m.moduleId()));
            deviceDeleted(deviceId);
        } finally {
            lock.unlock();
        }
    }

    /** Devices in id order, after {@code afterDeviceId} (null = from the first). */
    public List<Device> devices(String afterDeviceId, int limit) {
        return store.devices(afterDeviceId, limit);
    }

    /** IoT Hub's service statistics: how many identities are connected right now. */
    public int connectedDeviceCount() {
        return connections.connectedCount();
    }

    public RegistryStatistics statistics() {
        long total = store.deviceCount();
        long disabled = store.disabledDeviceCount();
        return new RegistryStatistics(total, total - disabled, disabled);
    }

    /**
     * {@code POST /devices}: up to {@value #MAX_BULK} creates, updates and deletes. Entries that break a rule fail on
     * their own; the others are stored together in one durable write.
     *
     * @return the failed entries (empty when all succeeded)
     */
    public List<BulkOperation.Failure> bulk(List<BulkOperation> operations) {
        if (operations.size() > MAX_BULK) {
            throw new HubException(HubErrorCode.TooManyDevices, "A bulk request may hold at most " + MAX_BULK
                    + " devices, not " + operations.size());
        }
        Set<String> seen = new HashSet<>();
        for (BulkOperation op : operations) {
            if (op.deviceId() != null && !seen.add(op.deviceId())) {
                throw new HubException(HubErrorCode.DeviceDefinedMultipleTimes, "Device '"
                        + IdentityRules.abbreviate(op.deviceId()) + "' appears more than once in the request");
            }
        }
        List<ReentrantLock> held = locksInOrder(seen);
        held.forEach(ReentrantLock::lock);
        try {
            List<BulkOperation.Failure> failures = new ArrayList<>();
            List<Device> puts = new ArrayList<>();
            List<String> deletes = new ArrayList<>();
            List<Device[]> cut = new ArrayList<>();
            for (BulkOperation op : operations) {
                try {
                    plan(op, puts, deletes, cut);
                } catch (HubException e) {
                    failures.add(new BulkOperation.Failure(op.deviceId(), e.errorCode(), e.getMessage()));
                }
            }
            StorageWrites.await(store.writeDevices(puts, deletes), "the registry changes");
            log.info("bulk registry request: {} stored, {} deleted, {} failed", puts.size(), deletes.size(),
                    failures.size());
            for (String deviceId : deletes) {
                connections.disconnectDevice(deviceId, HubErrorCode.DeviceNotFound);
                states.forget(deviceId, null);
                deviceDeleted(deviceId);
            }
            for (Device[] change : cut) {
                connections.disconnectDevice(change[1].deviceId(), HubErrorCode.IotHubUnauthorizedAccess);
                revoked(change[1].deviceId(), null, revocation(change[0], change[1]));
            }
            return failures;
        } finally {
            for (int i = held.size() - 1; i >= 0; i--) {
                held.get(i).unlock();
            }
        }
    }

    private void plan(BulkOperation op, List<Device> puts, List<String> deletes, List<Device[]> cut) {
        String deviceId = op.deviceId();
        IdentityRules.checkDeviceId(deviceId);
        Optional<Device> existing = store.device(deviceId);
        BulkOperation.Mode mode = op.mode();
        if (mode == BulkOperation.Mode.CREATE_OR_UPDATE) {
            mode = existing.isPresent() ? BulkOperation.Mode.UPDATE : BulkOperation.Mode.CREATE;
        }
        if (mode == BulkOperation.Mode.CREATE) {
            if (existing.isPresent()) {
                throw new HubException(HubErrorCode.DeviceAlreadyExists,
                        "A device with id '" + deviceId + "' already exists");
            }
            puts.add(newDevice(deviceId, op.device()));
            return;
        }
        Device current = existing.orElseThrow(() -> deviceNotFound(deviceId));
        if (mode == BulkOperation.Mode.UPDATE_IF_MATCH_ETAG || mode == BulkOperation.Mode.DELETE_IF_MATCH_ETAG) {
            Etags.check(op.etag() == null ? "" : op.etag(), current.etag());
        }
        if (mode.deletes()) {
            deletes.add(deviceId);
            return;
        }
        Device updated = replacedDevice(current, op.device());
        puts.add(updated);
        if (cutReason(current.isEnabled(), updated.isEnabled(), current.authentication(),
                updated.authentication()) != null) {
            cut.add(new Device[] {current, updated});
        }
    }

    /** The stripes of these ids, each once, in a global order so that two bulk requests cannot deadlock. */
    private List<ReentrantLock> locksInOrder(Set<String> deviceIds) {
        TreeSet<Integer> stripes = new TreeSet<>();
        deviceIds.forEach(id -> stripes.add(stripeOf(id)));
        List<ReentrantLock> out = new ArrayList<>(stripes.size());
        stripes.forEach(i -> out.add(locks[i]));
        return out;
    }

    private Device newDevice(String deviceId, Device request) {
        String now = Instant.now().toString();
        return new Device(deviceId, IdentityRules.newGenerationId(), Etags.newEtag(),
                checkStatus(request.status()), request.statusReason(), now,
                checkAuthentication(request.authentication(), null), request.iotEdge(), request.deviceScope(),
                request.parentScopes() == null ? List.of() : List.copyOf(request.parentScopes()));
    }

    private Device replacedDevice(Device current, Device request) {
        String status = checkStatus(request.status());
        String statusUpdated = status.equals(current.status()) ? current.statusUpdatedTime() : Instant.now().toString();
        return new Device(current.deviceId(), current.generationId(), Etags.newEtag(), status,
                request.statusReason(), statusUpdated,
                checkAuthentication(request.authentication(), current.authentication()), request.iotEdge(),
                request.deviceScope() != null ? request.deviceScope() : current.deviceScope(),
                request.parentScopes() == null ? current.parentScopes() : List.copyOf(request.parentScopes()));
    }

    // ---- modules

    /** {@code PUT /devices/{id}/modules/{mid}}: create when {@code ifMatch} is null, otherwise replace. */
    public Module putModule(String deviceId, String moduleId, Module request, String ifMatch) {
        IdentityRules.checkDeviceId(deviceId);
        IdentityRules.checkModuleId(moduleId);
        if (request.moduleId() != null && !request.moduleId().equals(moduleId)) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "the moduleId in the body differs from the one in the path");
        }
        if (request.deviceId() != null && !request.deviceId().equals(deviceId)) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "the deviceId in the body differs from the one in the path");
        }
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            if (store.device(deviceId).isEmpty()) {
                throw deviceNotFound(deviceId);
            }
            Optional<Module> existing = store.module(deviceId, moduleId);
            if (ifMatch == null) {
                if (existing.isPresent()) {
                    throw new HubException(HubErrorCode.ModuleAlreadyExistsOnDevice, "A module with id '"
                            + moduleId + "' already exists on device '" + deviceId + "'");
                }
                if (store.modules(deviceId).size() >= MAX_MODULES_PER_DEVICE) {
                    throw new HubException(HubErrorCode.TooManyModulesOnDevice, "device '" + deviceId
                            + "' already has " + MAX_MODULES_PER_DEVICE + " modules, the most it can have");
                }
                Module created = new Module(deviceId, moduleId, IdentityRules.newGenerationId(),
                        Etags.newEtag(), request.managedBy(),
                        checkAuthentication(request.authentication(), null));
                StorageWrites.await(store.putModule(created), "the registry change");
                log.info("module {}/{} created ({} authentication)", deviceId, moduleId,
                        created.authentication().type());
                return created;
            }
            Module current = existing.orElseThrow(() -> moduleNotFound(deviceId, moduleId));
            Etags.check(ifMatch, current.etag());
            Module updated = new Module(deviceId, moduleId, current.generationId(), Etags.newEtag(),
                    request.managedBy(), checkAuthentication(request.authentication(), current.authentication()));
            StorageWrites.await(store.putModule(updated), "the registry change");
            boolean rekeyed = !Objects.equals(current.authentication(), updated.authentication());
            log.info("module {}/{} updated{}", deviceId, moduleId,
                    rekeyed ? "; credentials changed: cutting its connection" : "");
            if (rekeyed) {
                connections.disconnectModule(deviceId, moduleId, HubErrorCode.IotHubUnauthorizedAccess);
                revoked(deviceId, moduleId, IdentityLifecycleListener.Revocation.REKEYED);
            }
            return updated;
        } finally {
            lock.unlock();
        }
    }

    public Module module(String deviceId, String moduleId) {
        if (store.device(deviceId).isEmpty()) {
            throw deviceNotFound(deviceId);
        }
        return store.module(deviceId, moduleId).orElseThrow(() -> moduleNotFound(deviceId, moduleId));
    }

    public Optional<Module> findModule(String deviceId, String moduleId) {
        return store.module(deviceId, moduleId);
    }

    public List<Module> modules(String deviceId) {
        if (store.device(deviceId).isEmpty()) {
            throw deviceNotFound(deviceId);
        }
        return store.modules(deviceId);
    }

    public void deleteModule(String deviceId, String moduleId, String ifMatch) {
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            Module current = module(deviceId, moduleId);
            if (ifMatch != null) {
                Etags.check(ifMatch, current.etag());
            }
            StorageWrites.await(store.deleteModule(deviceId, moduleId), "the registry change");
            log.info("module {}/{} deleted; cutting its connection", deviceId, moduleId);
            connections.disconnectModule(deviceId, moduleId, HubErrorCode.ModuleNotFound);
            states.forget(deviceId, moduleId);
            lifecycleListeners.forEach(l -> l.moduleDeleted(deviceId, moduleId));
        } finally {
            lock.unlock();
        }
    }

    // ---- rules shared by devices and modules

    private static String checkStatus(String status) {
        if (status == null || status.isEmpty()) {
            return Device.ENABLED;
        }
        if (status.equalsIgnoreCase(Device.ENABLED)) {
            return Device.ENABLED;
        }
        if (status.equalsIgnoreCase(Device.DISABLED)) {
            return Device.DISABLED;
        }
        throw new HubException(HubErrorCode.ArgumentInvalid, "status must be 'enabled' or 'disabled'");
    }

    /**
     * Validates the requested authentication; SAS keys missing from it are kept from {@code current} (a replace
     * that does not mention keys keeps them) or generated.
     */
    private static Authentication checkAuthentication(Authentication requested, Authentication current) {
        String type = requested == null || requested.type() == null ? Authentication.SAS : requested.type();
        switch (type) {
            case Authentication.SAS -> {
                Authentication.SymmetricKey keys = requested == null ? null : requested.symmetricKey();
                Authentication.SymmetricKey kept = current != null && current.isSas() ? current.symmetricKey() : null;
                String primary = pick(keys == null ? null : keys.primaryKey(), kept == null ? null : kept.primaryKey());
                String secondary = pick(keys == null ? null : keys.secondaryKey(),
                        kept == null ? null : kept.secondaryKey());
                IdentityRules.checkKey(primary, "primaryKey");
                IdentityRules.checkKey(secondary, "secondaryKey");
                return Authentication.sas(primary, secondary);
            }
            case Authentication.SELF_SIGNED -> {
                Authentication.X509Thumbprint t = requested.x509Thumbprint();
                String primary = IdentityRules.checkThumbprint(t == null ? null : t.primaryThumbprint(),
                        "primaryThumbprint");
                String secondary = IdentityRules.checkThumbprint(t == null ? null : t.secondaryThumbprint(),
                        "secondaryThumbprint");
                if (primary == null && secondary == null) {
                    throw new HubException(HubErrorCode.ArgumentNull,
                            "selfSigned authentication needs a primaryThumbprint or a secondaryThumbprint");
                }
                return new Authentication(Authentication.SELF_SIGNED, null,
                        new Authentication.X509Thumbprint(primary, secondary));
            }
            case Authentication.CERTIFICATE_AUTHORITY, Authentication.NONE -> {
                return new Authentication(type, null, null);
            }
            default -> throw new HubException(HubErrorCode.ArgumentInvalid, "authentication type '" + type
                    + "' is not one of sas, selfSigned, certificateAuthority, none");
        }
    }

    private static String pick(String requested, String kept) {
        if (requested != null && !requested.isEmpty()) {
            return requested;
        }
        return kept != null ? kept : IdentityRules.newKey();
    }

    /** What an update that cut the identity's connections did to it: disabling wins over a credentials change. */
    private static IdentityLifecycleListener.Revocation revocation(Device before, Device after) {
        return before.isEnabled() && !after.isEnabled() ? IdentityLifecycleListener.Revocation.DISABLED
                : IdentityLifecycleListener.Revocation.REKEYED;
    }

    /** Why an update must cut the identity's live connections, or null if they may stay. */
    private static String cutReason(boolean wasEnabled, boolean enabled, Authentication before, Authentication after) {
        if (wasEnabled && !enabled) {
            return "disabled";
        }
        return Objects.equals(before, after) ? null : "credentials changed";
    }


    private ReentrantLock lockFor(String deviceId) {
        return locks[stripeOf(deviceId)];
    }

    private static int stripeOf(String deviceId) {
        return Math.floorMod(deviceId.hashCode(), LOCK_STRIPES);
    }

    private static HubException deviceNotFound(String deviceId) {
        return new HubException(HubErrorCode.DeviceNotFound,
                "Device '" + IdentityRules.abbreviate(deviceId) + "' not found");
    }

    private static HubException moduleNotFound(String deviceId, String moduleId) {
        return new HubException(HubErrorCode.ModuleNotFound, "Module '" + IdentityRules.abbreviate(moduleId)
                + "' not found on device '" + IdentityRules.abbreviate(deviceId) + "'");
    }
}
