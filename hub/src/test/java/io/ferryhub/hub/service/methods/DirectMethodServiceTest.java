package io.ferryhub.hub.service.methods;

import io.ferryhub.hub.service.connection.FakeDeviceLink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.service.connection.DeviceConnections;
import io.ferryhub.hub.service.registry.ConnectionStates;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.registry.RegistryService;
import io.ferryhub.hub.storage.embedded.JournalStore;
import io.ferryhub.hub.storage.registry.KeyValueRegistryStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The direct method rules with a fake device link and sink: no sockets, a real registry on a journal store. */
class DirectMethodServiceTest {
    @TempDir
    Path dir;
    private JournalStore store;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private DeviceConnections connections;
    private RegistryService registry;
    private DirectMethodService methods;

    @BeforeEach
    void start() throws Exception {
        store = JournalStore.open(dir);
        connections = new DeviceConnections(timer);
        registry = new RegistryService(new KeyValueRegistryStore(store), connections, new ConnectionStates());
        registry.putDevice("d1", new Device("d1", null, null, null, null, null, null, false, null, null), null);
        registry.putDevice("off", new Device("off", null, null, Device.DISABLED, null, null, null, false, null, null),
                null);
        methods = new DirectMethodService(registry, connections, timer, Runnable::run);
    }

    @AfterEach
    void stop() throws Exception {
        timer.shutdownNow();
        store.close();
    }

    private static MethodCall call(String name, Integer responseTimeout, Integer connectTimeout) {
        return new MethodCall(name, Json.parse("{\"a\":1}"), responseTimeout, connectTimeout);
    }

    private static HubErrorCode failure(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        return assertInstanceOf(HubException.class, e.getCause()).errorCode();
    }

    @Test
    void aListeningDeviceGetsTheRequestAndItsAnswerCompletesTheCall() throws Exception {
        FakeSink sink = attach("d1");
        CompletableFuture<MethodResult> result = methods.invoke("d1", null, call("reboot", null, null));
        MethodRequest request = sink.requests.get(0);
        assertEquals("reboot", request.methodName());
        assertEquals(1, request.payload().get("a").asInt());
        assertEquals(1, methods.inFlight());
        methods.onResponse("d1", null, "no-such-request", 200, null);
        methods.onResponse("d2", null, request.requestId(), 200, null); // another device cannot answer it
        assertTrue(!result.isDone());
        JsonNode answer = Json.parse("{\"ok\":true}");
        methods.onResponse("d1", null, request.requestId(), 201, answer);
        assertEquals(new MethodResult(201, answer), result.get(5, TimeUnit.SECONDS));
        assertEquals(0, methods.inFlight());
    }

    @Test
    void anOfflineOrDeafDeviceIsNotOnlineAtOnce() throws Exception {
        assertEquals(HubErrorCode.DeviceNotOnline, failure(methods.invoke("d1", null, call("m", null, 0))));
        FakeSink deaf = attach("d1");
        deaf.ready = false; // connected, not subscribed to methods
        assertEquals(HubErrorCode.DeviceNotOnline, failure(methods.invoke("d1", null, call("m", null, null))));
    }

    @Test
    void aDeviceThatStartsListeningWithinTheConnectTimeoutGetsTheRequest() throws Exception {
        CompletableFuture<MethodResult> result = methods.invoke("d1", null, call("m", null, 20));
        FakeSink sink = attach("d1");
        FakeDeviceLink link = sink.link;
        connections.changed(link);
        MethodRequest request = sink.awaitRequest();
        methods.onResponse("d1", null, request.requestId(), 200, null);
        assertEquals(200, result.get(5, TimeUnit.SECONDS).status());
    }

    @Test
    void noAnswerWithinTheResponseTimeoutIsAGatewayTimeoutAndALateAnswerIsDropped() throws Exception {
        FakeSink sink = attach("d1");
        CompletableFuture<MethodResult> result = methods.invoke("d1", null, call("slow", 5, null));
        assertEquals(HubErrorCode.GatewayTimeout, failure(result));
        methods.onResponse("d1", null, sink.requests.get(0).requestId(), 200, null);
        assertEquals(0, methods.inFlight());
    }

    @Test
    void aFailedDeliveryIsNotOnline() throws Exception {
        FakeSink sink = attach("d1");
        sink.failDeliveries = true;
        assertEquals(HubErrorCode.DeviceNotOnline, failure(methods.invoke("d1", null, call("m", null, null))));
        assertEquals(0, methods.inFlight());
    }

    @Test
    void callsAreCheckedBeforeAnythingIsSent() {
        assertEquals(HubErrorCode.ArgumentNull, assertThrows(HubException.class,
                () -> methods.invoke("d1", null, call("", null, null))).errorCode());
        for (String bad : new String[] {"has space", "a/b", "$x", "é", "x".repeat(129)}) {
            assertEquals(HubErrorCode.ArgumentInvalid, assertThrows(HubException.class,
                    () -> methods.invoke("d1", null, call(bad, null, null))).errorCode(), bad);
        }
        assertThrows(HubException.class, () -> methods.invoke("d1", null, call("m", 4, null)));
        assertThrows(HubException.class, () -> methods.invoke("d1", null, call("m", 301, null)));
        assertThrows(HubException.class, () -> methods.invoke("d1", null, call("m", null, -1)));
        HubException big = assertThrows(HubException.class, () -> methods.invoke("d1", null,
                new MethodCall("m", Json.MAPPER.getNodeFactory().textNode("x".repeat(128 * 1024)), null, null)));
        assertEquals(HubErrorCode.ArgumentInvalid, big.errorCode());
        assertEquals(HubErrorCode.DeviceNotFound, assertThrows(HubException.class,
                () -> methods.invoke("off", null, call("m", null, null))).errorCode());
        assertEquals(HubErrorCode.DeviceNotFound, assertThrows(HubException.class,
                () -> methods.invoke("nobody", null, call("m", null, null))).errorCode());
    }

    private FakeSink attach(String deviceId) {
        FakeDeviceLink link = new FakeDeviceLink(deviceId);
        FakeSink sink = new FakeSink(link);
        methods.attach(link, sink);
        connections.register(link);
        return sink;
    }

    static final class FakeSink implements MethodRequestSink {
        final FakeDeviceLink link;
        final List<MethodRequest> requests = new CopyOnWriteArrayList<>();
        volatile boolean ready = true;
        volatile boolean failDeliveries;

        FakeSink(FakeDeviceLink link) {
            this.link = link;
        }

        @Override
        public boolean ready() {
            return ready;
        }

        @Override
        public CompletableFuture<Void> deliver(MethodRequest request) {
            requests.add(request);
            return failDeliveries ? CompletableFuture.failedFuture(new IllegalStateException("link closed"))
                    : CompletableFuture.completedFuture(null);
        }

        MethodRequest awaitRequest() throws InterruptedException {
            if (!io.ferryhub.testsupport.Await.within(java.time.Duration.ofSeconds(30), () -> !requests.isEmpty())) {
                throw new AssertionError("no request delivered");
            }
            return requests.get(0);
        }
    }
}
