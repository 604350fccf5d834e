package io.ferryhub.hub;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.server.tls.HubPki;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.Module;
import io.ferryhub.hub.service.telemetry.EventStreamService;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;

import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the hub's tests need around a real {@link HubServer}: identities with generated keys, tokens as the SDKs make
 * them, TLS contexts that trust the hub's CA, and the event stream read back. Everything goes through the hub's own
 * services, as a back-end or device would see it.
 */
public final class HubTestSupport {
    private HubTestSupport() {
    }

    /** Registers {@code id} (a device) or {@code device/module} with generated keys; returns the primary key. */
    public static String register(HubServer hub, String clientId) {
        String[] ids = clientId.split("/", 2);
        if (hub.registry().findDevice(ids[0]).isEmpty()) {
            hub.registry().putDevice(ids[0], new Device(ids[0], null, null, null, null, null, null, false, null,
                    null), null);
        }
        if (ids.length == 1) {
            return hub.registry().device(ids[0]).authentication().symmetricKey().primaryKey();
        }
        return hub.registry().putModule(ids[0], ids[1], new Module(ids[0], ids[1], null, null, null, null), null)
                .authentication().symmetricKey().primaryKey();
    }

    /** A device ({@code id}) or module ({@code device/module}) SAS token as the SDKs make it. */
    public static String deviceToken(HubServer hub, String clientId, String key, Instant expiry) {
        String resource = hub.hostName() + "/devices/" + clientId.replace("/", "/modules/");
        return SasToken.create(resource, key, null, expiry);
    }

    /** A device or module SAS token valid for an hour. */
    public static String deviceToken(HubServer hub, String clientId, String key) {
        return deviceToken(hub, clientId, key, Instant.now().plusSeconds(3600));
    }

    /** A token of the iothubowner policy, as the service SDKs make it. */
    public static String ownerToken(HubServer hub) {
        var owner = hub.policies().find("iothubowner").orElseThrow();
        return SasToken.create(hub.hostName(), owner.primaryKey(), "iothubowner", Instant.now().plusSeconds(3600));
    }

    /** A client-side TLS context trusting the CA in {@code caPem}. */
    public static SSLContext trusting(Path caPem) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers(caPem), null);
        return context;
    }

    public static TrustManager[] trustManagers(Path caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("hub-ca", HubPki.readCertificates(caPem).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    /** Every event this device sent, oldest first per partition, read through the hub's event stream service. */
    public static List<StoredEvent> eventsOf(HubServer hub, String deviceId) throws Exception {
        EventStreamService events = hub.eventStream();
        List<StoredEvent> found = new ArrayList<>();
        for (int p = 0; p < events.partitionCount(); p++) {
            StartPosition from = StartPosition.earliest();
            while (true) {
                EventStreamService.ReadResult batch = events.read(null, p, from, 1000, Duration.ofMillis(20))
                        .get(30, TimeUnit.SECONDS);
                if (batch.events().isEmpty()) {
                    break;
                }
                for (StoredEvent e : batch.events()) {
                    if (deviceId.equals(e.data().systemProperties().get("iothub-connection-device-id"))) {
                        found.add(e);
                    }
                }
                from = new StartPosition.Offset(batch.nextOffset(), true);
            }
        }
        return found;
    }
}
