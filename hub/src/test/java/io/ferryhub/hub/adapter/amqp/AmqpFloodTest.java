package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.hub.HubTestSupport;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.Begin;
import org.apache.qpid.proton.amqp.transport.Close;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.Open;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers that open sessions and links without authenticating, as fast as the socket takes frames, are closed at
 * the hub's caps with {@code amqp:resource-limit-exceeded}; the hub's heap stays bounded and a device is served
 * throughout. Authenticated connections get the higher caps the hub advertises (channel-max, handle-max).
 */
class AmqpFloodTest {
    private static final long WAIT_MILLIS = 20_000;
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static SSLContext tls;
    /** The flood comes from 127.0.0.1, the device from another address, as another machine would. */
    static InetAddress deviceAddress;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir));
        tls = HubTestSupport.trusting(hub.caCertificatePath());
        deviceAddress = InetAddress.getByName("127.0.0.2");
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    private static RawAmqpPeer anonymousPeer() throws Exception {
        RawAmqpPeer peer = new RawAmqpPeer(tls, hub.amqpPort(), null);
        peer.openAnonymously();
        return peer;
    }

    private static void assertClosedForResourceLimit(RawAmqpPeer peer) throws Exception {
        Close close = peer.await(Close.class, WAIT_MILLIS);
        assertNotNull(close, "the hub must close the connection");
        assertNotNull(close.getError());
        assertEquals(AmqpErrors.RESOURCE_LIMIT, close.getError().getCondition());
        assertTrue(peer.awaitEndOfStream(WAIT_MILLIS), "the hub must close the socket after its CLOSE");
    }

    @Test
    void theHubAdvertisesChannelMaxAndHandleMax() throws Exception {
        try (RawAmqpPeer peer = anonymousPeer()) {
            peer.write(peer.begin(0));
            Open open = peer.await(Open.class, WAIT_MILLIS);
            assertNotNull(open);
            assertEquals(AmqpLimits.DEFAULTS.maxSessions() - 1, open.getChannelMax().intValue());
            Begin begin = peer.await(Begin.class, WAIT_MILLIS);
            assertNotNull(begin);
            assertEquals(AmqpLimits.DEFAULTS.maxLinksPerSession() - 1, begin.getHandleMax().intValue());
        }
    }

    @Test
    void sessionsBeyondChannelMaxCloseTheConnection() throws Exception {
        try (RawAmqpPeer peer = anonymousPeer()) {
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            for (int channel = 0; channel < AmqpLimits.DEFAULTS.maxSessions() + 100; channel++) {
                frames.writeBytes(peer.begin(channel));
            }
            peer.tryWrite(frames.toByteArray());
            assertClosedForResourceLimit(peer);
            assertTrue(peer.count(Begin.class) <= AmqpLimits.DEFAULTS.maxSessions(),
                    peer.count(Begin.class) + " sessions begun");
        }
    }

    @Test
    void linksBeyondTheUnauthenticatedCapCloseTheConnection() throws Exception {
        try (RawAmqpPeer peer = anonymousPeer()) {
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            frames.writeBytes(peer.begin(0));
            for (int handle = 0; handle < 60; handle++) { // within handle-max: the unauthenticated cap is lower
                frames.writeBytes(peer.attach(0, handle, "$cbs"));
            }
            peer.tryWrite(frames.toByteArray());
            assertClosedForResourceLimit(peer);
            long attached = peer.count(org.apache.qpid.proton.amqp.transport.Attach.class);
            assertTrue(attached <= AmqpLimits.DEFAULTS.maxUnauthenticatedLinks(), attached + " links attached");
        }
    }

    @Test
    void anAuthenticatedConnectionGetsItsLinksUpToTheCapAndNoMore() throws Exception {
        AmqpLimits limits = AmqpLimits.DEFAULTS;
        try (ProtonClient c = new ProtonClient(tls, hub.amqpPort(), deviceAddress, ProtonClient.SaslMode.ANONYMOUS,
                null, null)) {
            assertTrue(c.awaitOpen());
            assertEquals(200, c.putToken(hub.hostName(), HubTestSupport.ownerToken(hub)));
            // sessions full of $cbs receivers, past the per-connection cap (the CBS pair counts too)
            List<Receiver> links = new ArrayList<>();
            int wanted = limits.maxLinks() + 10;
            while (links.size() + 2 < wanted) {
                Session session = c.connection.session();
                session.open();
                for (int i = 0; i < limits.maxLinksPerSession() && links.size() + 2 < wanted; i++) {
                    Receiver r = session.receiver("cap-" + links.size());
                    Source source = new Source();
                    source.setAddress("$cbs");
                    r.setSource(source);
                    r.setTarget(new Target());
                    r.open();
                    links.add(r);
                }
            }
            assertTrue(c.pumpUntil(() -> links.stream().allMatch(
                    r -> r.getRemoteState() != EndpointState.UNINITIALIZED)), "every attach is answered");
            long refused = links.stream().filter(r -> r.getRemoteState() == EndpointState.CLOSED).count();
            assertEquals(wanted - limits.maxLinks(), refused, "links past the cap are refused");
            links.stream().filter(r -> r.getRemoteState() == EndpointState.CLOSED).forEach(r ->
                    assertEquals(AmqpErrors.RESOURCE_LIMIT, r.getRemoteCondition().getCondition()));
            assertEquals(EndpointState.ACTIVE, c.connection.getRemoteState(), "the connection itself stays");
        }
    }

    @Test
    void anAttachAboveTheAdvertisedHandleMaxClosesTheConnection() throws Exception {
        String owner = "iothubowner@sas.root." + hub.hostName();
        try (RawAmqpPeer peer = new RawAmqpPeer(tls, hub.amqpPort(), deviceAddress)) {
            peer.open(owner, HubTestSupport.ownerToken(hub));
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            frames.writeBytes(peer.begin(0));
            for (int handle = 0; handle <= AmqpLimits.DEFAULTS.maxLinksPerSession(); handle++) {
                frames.writeBytes(peer.attach(0, handle, "$cbs"));
            }
            peer.write(frames.toByteArray());
            assertTrue(peer.awaitEndOfStream(WAIT_MILLIS), "the hub must close the connection");
            assertTrue(peer.count(org.apache.qpid.proton.amqp.transport.Attach.class)
                    <= AmqpLimits.DEFAULTS.maxLinksPerSession(), "no link above handle-max is attached");
        }
        // the hub is none the worse for it
        try (RawAmqpPeer peer = new RawAmqpPeer(tls, hub.amqpPort(), deviceAddress)) {
            peer.open(owner, HubTestSupport.ownerToken(hub));
            peer.write(peer.begin(0));
            peer.write(peer.attach(0, 0, "$cbs"));
            assertNotNull(peer.await(org.apache.qpid.proton.amqp.transport.Attach.class, WAIT_MILLIS));
        }
    }

    @Test
    void aFloodOfUnauthenticatedAttachesLeavesTheHeapBoundedAndTheDeviceServed() throws Exception {
        String key = HubTestSupport.register(hub, "flood-d1");
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = usedHeapAfterGc(memory);
        AtomicInteger floods = new AtomicInteger();
        AtomicInteger closedAtCap = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        List<DeliveryState> outcomes = new CopyOnWriteArrayList<>();
        try (ProtonClient device = new ProtonClient(tls, hub.amqpPort(), deviceAddress,
                ProtonClient.SaslMode.ANONYMOUS, null, null)) {
            assertTrue(device.awaitOpen());
            assertEquals(200, device.putToken(hub.hostName() + "/devices/flood-d1",
                    HubTestSupport.deviceToken(hub, "flood-d1", key)));
            Sender events = device.openSender("/devices/flood-d1/messages/events");
            // two connections at a time, as in the attack: each offers 4 sessions and 40,000 attaches at once (in the
            // attack, ~600,000 attaches over two connections exhausted a 512 MB heap)
            List<CompletableFuture<Void>> flooders = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                flooders.add(CompletableFuture.runAsync(() -> {
                    for (int round = 0; round < 25; round++) {
                        try (RawAmqpPeer peer = anonymousPeer()) {
                            floods.incrementAndGet();
                            ByteArrayOutputStream frames = new ByteArrayOutputStream();
                            for (int channel = 0; channel < 4; channel++) {
                                frames.writeBytes(peer.begin(channel));
                            }
                            for (int handle = 0; handle < 10_000; handle++) {
                                for (int channel = 0; channel < 4; channel++) {
                                    frames.writeBytes(peer.attach(channel, handle, "$cbs"));
                                }
                            }
                            peer.tryWrite(frames.toByteArray());
                            Close close = peer.await(Close.class, WAIT_MILLIS);
                            if (close != null && close.getError() != null
                                    && AmqpErrors.RESOURCE_LIMIT.equals(close.getError().getCondition())
                                    && peer.awaitEndOfStream(WAIT_MILLIS)) {
                                closedAtCap.incrementAndGet();
                            } else {
                                failures.add("flood connection " + round + " not closed at the cap: " + close);
                                return;
                            }
                        } catch (Exception e) {
                            failures.add(e.toString());
                            return;
                        }
                    }
                }));
            }
            CompletableFuture<Void> all = CompletableFuture.allOf(flooders.toArray(CompletableFuture[]::new));
            int sent = 0;
            while (!all.isDone()) { // the device keeps sending while the flood lasts
                outcomes.add(device.send(events, ProtonClient.message("during " + sent++)));
            }
            all.get(5, TimeUnit.MINUTES);
            assertEquals(List.of(), failures);
            assertEquals(floods.get(), closedAtCap.get());
            long after = usedHeapAfterGc(memory);
            outcomes.add(device.send(events, ProtonClient.message("after")));
            for (DeliveryState outcome : outcomes) {
                assertInstanceOf(Accepted.class, outcome);
            }
            long grownMb = (after - before) / (1024 * 1024);
            System.out.printf("flood: %d connections, %d attaches offered, heap %d MB -> %d MB, device sent %d%n",
                    floods.get(), floods.get() * 40_000L, before >> 20, after >> 20, outcomes.size());
            assertTrue(grownMb < 64, "the heap grew by " + grownMb + " MB");
        }
        assertTrue(outcomes.size() >= 2);
        assertEquals(outcomes.size(), HubTestSupport.eventsOf(hub, "flood-d1").size());
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) {
        System.gc();
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
