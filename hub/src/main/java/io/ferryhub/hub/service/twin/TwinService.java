package io.ferryhub.hub.service.twin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.Etags;
import io.ferryhub.hub.service.StorageWrites;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.IdentityLifecycleListener;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.service.throttling.OperationClass;
import io.ferryhub.hub.service.throttling.Throttles;
import io.ferryhub.hub.storage.twin.TwinStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Device and module twins with IoT Hub's rules. A twin exists exactly while its identity does: it is read from
 * the store when one was written for the identity's generation, and is the initial empty twin otherwise. Writes
 * to one device's twins are serialised by a striped lock held until the write is durable and listeners (desired
 * notifications, the query index) are told, so notifications leave in version order. Every change is checked on
 * a copy first: a patch that breaks a rule changes nothing.
 */
public final class TwinService implements IdentityLifecycleListener {
    private static final Logger log = LoggerFactory.getLogger(TwinService.class);
    private static final int LOCK_STRIPES = 1024;

    private final TwinStore store;
    private final RegistryService registry;
    private final Clock clock;
    private final ToIntFunction<String> queuedMessages;
    /** Counts the device side (twin GET and reported patches, any transport); service routes count at the router. */
    private final Throttles throttles;
    private final ReentrantLock[] locks = new ReentrantLock[LOCK_STRIPES];
    private final List<TwinChangeListener> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param queuedMessages how many cloud-to-device messages wait for a device, without blocking: twins show it as
     *                       {@code cloudToDeviceMessageCount}
     */
    public TwinService(TwinStore store, RegistryService registry, ToIntFunction<String> queuedMessages, Clock clock) {
        this(store, registry, queuedMessages, clock, Throttles.off());
    }

    /**
     * @param throttles the hub's throttles: a device's twin GET counts as a twin read and its reported patch as a
     *                  twin update, over MQTT and AMQP alike ({@code 429001} past the rate)
     */
    public TwinService(TwinStore store, RegistryService registry, ToIntFunction<String> queuedMessages, Clock clock,
                       Throttles throttles) {
        this.store = store;
        this.throttles = throttles;
        this.registry = registry;
        this.queuedMessages = queuedMessages;
        this.clock = clock;
        for (int i = 0; i < LOCK_STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
        registry.addLifecycleListener(this);
    }

    public void addListener(TwinChangeListener listener) {
        listeners.add(listener);
    }

    /** The twin of an identity with what IoT Hub shows: identity fields, tags, desired and reported. */
    public ObjectNode twin(String deviceId, String moduleId) {
        Identity identity = identity(deviceId, moduleId);
        return render(identity, current(identity));
    }

    /**
     * The twin as a device sees it ({@code $iothub/twin/GET}): desired and reported, no tags.
     *
     * @throws HubException {@code ThrottlingException} past the hub's twin-read rate
     */
    public ObjectNode deviceView(String deviceId, String moduleId) {
        throttles.admit(OperationClass.TWIN_READ);
        TwinRecord twin = current(identity(deviceId, moduleId));
        ObjectNode out = Json.object();
        out.set("desired", TwinDocuments.render(twin.desired(), twin.desiredMetadata(), twin.desiredVersion()));
        out.set("reported", TwinDocuments.render(twin.reported(), twin.reportedMetadata(), twin.reportedVersion()));
        return out;
    }

    /**
     * {@code PATCH /twins/{id}}: merges {@code tags} and {@code properties.desired} into the twin.
     *
     * @param ifMatch the twin etag the caller expects, {@code *} or null for none
     */
    public ObjectNode update(String deviceId, String moduleId, JsonNode patch, String ifMatch) {
        return write(deviceId, moduleId, patch, ifMatch, false);
    }

    /** {@code PUT /twins/{id}}: replaces {@code tags} and {@code properties.desired} with the ones given. */
    public ObjectNode replace(String deviceId, String moduleId, JsonNode twin, String ifMatch) {
        return write(deviceId, moduleId, twin, ifMatch, true);
    }

    private ObjectNode write(String deviceId, String moduleId, JsonNode body, String ifMatch, boolean replace) {
        if (body == null || !body.isObject()) {
            throw TwinRules.invalid("The twin must be a JSON object");
        }
        ObjectNode tags = section(body.get("tags"), "tags", replace);
        JsonNode properties = body.get("properties");
        if (properties != null && !properties.isNull() && !properties.isObject()) {
            throw TwinRules.invalid("properties must be a JSON object");
        }
        if (!replace && properties != null && properties.hasNonNull("reported")) {
            throw TwinRules.invalid("Reported properties are written by the device, not by the service");
        }
        ObjectNode desired = section(properties == null ? null : properties.get("desired"), "properties.desired",
                replace);
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            Identity identity = identity(deviceId, moduleId);
            TwinRecord current = current(identity);
            Etags.check(ifMatch, etagOf(current.version()));
            if (tags == null && desired == null) {
                return render(identity, current);
            }
            String now = now();
            TwinRecord next = current.copy();
            ObjectNode tagsOut = next.tags();
            if (tags != null) {
                if (replace) {
                    tagsOut.removeAll();
                }
                TwinDocuments.merge(tagsOut, Json.object(), tags, Json.object());
                TwinRules.checkSize("tags", tagsOut, TwinRules.MAX_TAGS_BYTES);
            }
            long desiredVersion = next.desiredVersion();
            if (desired != null) {
                desiredVersion++;
                ObjectNode stamp = TwinDocuments.stamp(now, desiredVersion);
                if (replace) {
                    TwinDocuments.replace(next.desired(), next.desiredMetadata(), desired, stamp);
                } else {
                    TwinDocuments.merge(next.desired(), next.desiredMetadata(), desired, stamp);
                }
                TwinRules.checkSize("properties.desired", next.desired(), TwinRules.MAX_DESIRED_BYTES);
            }
            TwinRecord stored = new TwinRecord(identity.generationId(), current.version() + 1, tagsOut,
                    next.desired(), next.desiredMetadata(), desiredVersion, next.reported(), next.reportedMetadata(),
                    next.reportedVersion());
            StorageWrites.await(store.put(deviceId, moduleId, stored), "the twin");
            log.info("twin {} {} (version {}, desired version {})", name(deviceId, moduleId),
                    replace ? "replaced" : "updated", stored.version(), stored.desiredVersion());
            if (desired != null) {
                ObjectNode notification = replace ? stored.desired().deepCopy() : desired.deepCopy();
                notification.put(TwinDocuments.VERSION, desiredVersion);
                listeners.forEach(l -> l.desiredChanged(deviceId, moduleId, notification));
            }
            listeners.forEach(l -> l.twinChanged(deviceId, moduleId, stored));
            ObjectNode change = Json.object().put("version", stored.version());
            if (tags != null) {
                change.set("tags", replace ? stored.tags().deepCopy() : tags.deepCopy());
            }
            if (desired != null) {
                ObjectNode section = replace ? stored.desired().deepCopy() : desired.deepCopy();
                section.set(TwinDocuments.METADATA, stored.desiredMetadata().deepCopy());
                section.put(TwinDocuments.VERSION, desiredVersion);
                change.putObject("properties").set("desired", section);
            }
            TwinChangeEvent event = new TwinChangeEvent(deviceId, moduleId, replace ? "replaceTwin" : "updateTwin",
                    now, change);
            listeners.forEach(l -> l.changeEvent(event));
            return render(identity, stored);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A device's reported-properties patch (counted against the twin-update rate, even when refused as invalid, as
     * the REST routes count).
     *
     * @return the new reported version
     * @throws HubException {@code ThrottlingException} past the hub's twin-update rate
     */
    public long reportProperties(String deviceId, String moduleId, JsonNode patch) {
        throttles.admit(OperationClass.TWIN_UPDATE);
        if (patch == null || !patch.isObject()) {
            throw TwinRules.invalid("The reported properties patch must be a JSON object");
        }
        ObjectNode clean = TwinDocuments.withoutReadOnly((ObjectNode) patch);
        TwinRules.checkContent("properties.reported", clean);
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            Identity identity = identity(deviceId, moduleId);
            TwinRecord next = current(identity).copy();
            long reportedVersion = next.reportedVersion() + 1;
            TwinDocuments.merge(next.reported(), next.reportedMetadata(), clean, TwinDocuments.stamp(now(), null));
            TwinRules.checkSize("properties.reported", next.reported(), TwinRules.MAX_REPORTED_BYTES);
            TwinRecord stored = new TwinRecord(identity.generationId(), next.version() + 1, next.tags(),
                    next.desired(), next.desiredMetadata(), next.desiredVersion(), next.reported(),
                    next.reportedMetadata(), reportedVersion);
            StorageWrites.await(store.put(deviceId, moduleId, stored), "the twin");
            log.debug("twin {}: reported properties updated (version {}, reported version {})",
                    name(deviceId, moduleId), stored.version(), reportedVersion);
            listeners.forEach(l -> l.twinChanged(deviceId, moduleId, stored));
            ObjectNode section = clean.deepCopy();
            section.set(TwinDocuments.METADATA, stored.reportedMetadata().deepCopy());
            section.put(TwinDocuments.VERSION, reportedVersion);
            ObjectNode change = Json.object().put("version", stored.version());
            change.putObject("properties").set("reported", section);
            TwinChangeEvent event = new TwinChangeEvent(deviceId, moduleId, "updateTwin", stored.reportedMetadata()
                    .path(TwinDocuments.LAST_UPDATED).asText(), change);
            listeners.forEach(l -> l.changeEvent(event));
            return reportedVersion;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void deviceDeleted(String deviceId) {
        deleteTwin(deviceId, null);
    }

    @Override
    public void moduleDeleted(String deviceId, String moduleId) {
        deleteTwin(deviceId, moduleId);
    }

    private void deleteTwin(String deviceId, String moduleId) {
        ReentrantLock lock = lockFor(deviceId);
        lock.lock();
        try {
            // Should this fail, the generation check still hides the old twin from a new identity with the same id.
            StorageWrites.await(store.delete(deviceId, moduleId), "the twin deletion");
            listeners.forEach(l -> l.twinChanged(deviceId, moduleId, null));
        } catch (HubException e) {
            log.warn("the twin of {} could not be deleted: {}", name(deviceId, moduleId), e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    // ---- reading

    /** An identity a twin belongs to: the registry's device or module, with its connection state. */
    public record Identity(Device device, Module module) {
        String generationId() {
            return module != null ? module.generationId() : device.generationId();
        }
    }

    /** The identity, or 404 with IoT Hub's code. */
    public Identity identity(String deviceId, String moduleId) {
        Device device = registry.device(deviceId);
        Module module = moduleId == null ? null : registry.module(deviceId, moduleId);
        return new Identity(device, module);
    }

    /** The stored twin of this generation of the identity, or the initial twin. */
    private TwinRecord current(Identity identity) {
        String deviceId = identity.device().deviceId();
        String moduleId = identity.module() == null ? null : identity.module().moduleId();
        return store.get(deviceId, moduleId)
                .filter(t -> identity.generationId().equals(t.generationId()))
                .orElseGet(() -> TwinRecord.initial(identity.generationId(), ConnectionStates.NEVER));
    }

    /** The twin JSON the SDKs read (the Java service SDK's TwinState fields). */
    public ObjectNode render(Identity identity, TwinRecord twin) {
        Device d = identity.device();
        Module m = identity.module();
        ConnectionStates.State state = registry.connectionStates().of(d.deviceId(), m == null ? null : m.moduleId());
        ObjectNode out = Json.object();
        out.put("deviceId", d.deviceId());
        if (m != null) {
            out.put("moduleId", m.moduleId());
        }
        out.put("etag", etagOf(twin.version()));
        out.put("deviceEtag", m != null ? m.etag() : d.etag());
        out.put("status", d.status());
        if (m == null) {
            out.put("statusReason", d.statusReason());
            out.put("statusUpdateTime", d.statusUpdatedTime());
        }
        out.put("connectionState", state.connected() ? "Connected" : "Disconnected");
        out.put("lastActivityTime", state.lastActivityTime());
        // cloud-to-device queues are per device; modules receive none through them
        out.put("cloudToDeviceMessageCount", m == null ? queuedMessages.applyAsInt(d.deviceId()) : 0);
        var auth = m != null ? m.authentication() : d.authentication();
        out.put("authenticationType", auth == null ? "sas" : auth.type());
        ObjectNode thumbprint = out.putObject("x509Thumbprint");
        thumbprint.put("primaryThumbprint", auth == null || auth.x509Thumbprint() == null ? null
                : auth.x509Thumbprint().primaryThumbprint());
        thumbprint.put("secondaryThumbprint", auth == null || auth.x509Thumbprint() == null ? null
                : auth.x509Thumbprint().secondaryThumbprint());
        out.put("modelId", "");
        out.put("version", twin.version());
        if (m == null) {
            out.putObject("capabilities").put("iotEdge", d.iotEdge());
            if (d.deviceScope() != null) {
                out.put("deviceScope", d.deviceScope());
            }
            out.putArray("parentScopes").addAll(d.parentScopes().stream().map(Json.MAPPER.getNodeFactory()::textNode)
                    .toList());
        }
        out.set("tags", twin.tags().deepCopy());
        ObjectNode properties = out.putObject("properties");
        properties.set("desired", TwinDocuments.render(twin.desired(), twin.desiredMetadata(), twin.desiredVersion()));
        properties.set("reported", TwinDocuments.render(twin.reported(), twin.reportedMetadata(),
                twin.reportedVersion()));
        return out;
    }

    /** The twin of an identity if it exists, for the query engine (no 404: a vanished identity just has none). */
    public Optional<ObjectNode> find(String deviceId, String moduleId) {
        Optional<Device> device = registry.findDevice(deviceId);
        if (device.isEmpty()) {
            return Optional.empty();
        }
        if (moduleId == null) {
            return Optional.of(twinOf(device.get(), null));
        }
        return registry.findModule(deviceId, moduleId).map(m -> twinOf(device.get(), m));
    }

    /** The twin of an identity the caller already read from the registry. */
    public ObjectNode twinOf(Device device, Module module) {
        Identity identity = new Identity(device, module);
        return render(identity, current(identity));
    }

    /** Every stored twin record in key order, e.g. to build an index at start-up. */
    public void forEachStored(Consumer<TwinStore.StoredTwin> action) {
        String afterDevice = null;
        String afterModule = null;
        while (true) {
            List<TwinStore.StoredTwin> page = store.scan(afterDevice, afterModule, 1000);
            page.forEach(action);
            if (page.size() < 1000) {
                return;
            }
            TwinStore.StoredTwin last = page.get(page.size() - 1);
            afterDevice = last.deviceId();
            afterModule = last.moduleId();
        }
    }

    /** The twin of this identity as stored (or initial), for the query engine. */
    public TwinRecord stored(Identity identity) {
        return current(identity);
    }

    /** IoT Hub's twin etags are the twin version as 8 big-endian bytes in base64 ({@code AAAAAAAAAAE=}). */
    public static String etagOf(long version) {
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(8).putLong(version).array());
    }

    private static ObjectNode section(JsonNode node, String name, boolean replace) {
        if (node == null || (node.isNull() && !replace)) {
            return replace ? Json.object() : null;
        }
        if (node.isNull()) {
            return Json.object();
        }
        if (!node.isObject()) {
            throw TwinRules.invalid(name + " must be a JSON object");
        }
        ObjectNode clean = TwinDocuments.withoutReadOnly((ObjectNode) node);
        TwinRules.checkContent(name, clean);
        return clean;
    }

    private String now() {
        return Instant.now(clock).truncatedTo(ChronoUnit.MILLIS).toString();
    }

    private ReentrantLock lockFor(String deviceId) {
        return locks[Math.floorMod(deviceId.hashCode(), LOCK_STRIPES)];
    }

    private static String name(String deviceId, String moduleId) {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
