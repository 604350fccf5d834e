package io.ferryhub.signaling;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamNegotiatorTest {
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final LinkedBlockingQueue<StreamRequest> delivered = new LinkedBlockingQueue<>();
    private volatile DeviceDirectory.IdentityState state = DeviceDirectory.IdentityState.ENABLED;
    private volatile boolean online = true;
    private final StreamNegotiator negotiator = new StreamNegotiator((d, m) -> state,
            (d, m, wait) -> CompletableFuture.completedFuture(online
                    ? Optional.<StreamRequestSink>of(delivered::add) : Optional.empty()),
            new StreamTokenIssuer("hub1", "wss://localhost:8443", KEY, Duration.ofSeconds(30)), timer,
            Clock.systemUTC());

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private static StreamNegotiator.Request request(Duration responseTimeout) {
        return new StreamNegotiator.Request("dev1", null, "ssh", Duration.ZERO, responseTimeout, "service");
    }

    @Test
    void acceptedStreamCarriesTheUrlAndATokenTheGatewayVerifies() throws Exception {
        CompletableFuture<StreamInitiation> result = negotiator.initiate(request(Duration.ofSeconds(5)));
        StreamRequest sent = delivered.poll(30, TimeUnit.SECONDS);
        assertEquals("wss://localhost:8443/bridges/hub1/dev1/" + sent.streamId(), sent.url());
        negotiator.onDeviceResponse("dev1", null, sent.requestId(), true);
        StreamInitiation outcome = result.get(30, TimeUnit.SECONDS);
        assertTrue(outcome.accepted());
        assertEquals(sent.url(), outcome.url());
        StreamToken token = StreamToken.verify(outcome.authToken(), KEY, Instant.now());
        assertEquals(sent.streamId(), token.streamId());
        assertEquals("dev1", token.deviceId());
        assertEquals(StreamToken.Side.SERVICE, token.side(), "the service is handed the service end's token");
        StreamToken device = StreamToken.verify(sent.authToken(), KEY, Instant.now());
        assertEquals(token.forSide(StreamToken.Side.DEVICE), device, "the device's names the same stream");
        assertEquals(0, negotiator.pendingCount());
    }

    @Test
    void rejectedStreamHasNoUrlNorToken() throws Exception {
        CompletableFuture<StreamInitiation> result = negotiator.initiate(request(Duration.ofSeconds(5)));
        StreamRequest sent = delivered.poll(30, TimeUnit.SECONDS);
        negotiator.onDeviceResponse("dev1", null, sent.requestId(), false);
        StreamInitiation outcome = result.get(30, TimeUnit.SECONDS);
        assertFalse(outcome.accepted());
        assertNull(outcome.url());
        assertNull(outcome.authToken());
    }

    @Test
    void anAnswerFromAnotherDeviceIsIgnored() throws Exception {
        CompletableFuture<StreamInitiation> result = negotiator.initiate(request(Duration.ofSeconds(5)));
        StreamRequest sent = delivered.poll(30, TimeUnit.SECONDS);
        negotiator.onDeviceResponse("dev2", null, sent.requestId(), true);
        assertFalse(result.isDone());
        negotiator.onDeviceResponse("dev1", null, sent.requestId(), true);
        assertTrue(result.get(30, TimeUnit.SECONDS).accepted());
    }

    @Test
    void noAnswerIsAGatewayTimeoutAndALateAnswerIsDropped() throws Exception {
        CompletableFuture<StreamInitiation> result = negotiator.initiate(request(Duration.ofMillis(100)));
        StreamRequest sent = delivered.poll(30, TimeUnit.SECONDS);
        assertEquals(HubErrorCode.GatewayTimeout, failure(result).errorCode());
        negotiator.onDeviceResponse("dev1", null, sent.requestId(), true);
        assertEquals(0, negotiator.pendingCount());
    }

    @Test
    void unknownDisabledAndOfflineDevicesAreRefused() throws Exception {
        state = DeviceDirectory.IdentityState.DEVICE_NOT_FOUND;
        assertEquals(HubErrorCode.DeviceNotFound, failure(negotiator.initiate(request(Duration.ofSeconds(1))))
                .errorCode());
        state = DeviceDirectory.IdentityState.MODULE_NOT_FOUND;
        assertEquals(HubErrorCode.ModuleNotFound, failure(negotiator.initiate(request(Duration.ofSeconds(1))))
                .errorCode());
        state = DeviceDirectory.IdentityState.DISABLED;
        assertEquals(HubErrorCode.DeviceNotFound, failure(negotiator.initiate(request(Duration.ofSeconds(1))))
                .errorCode());
        state = DeviceDirectory.IdentityState.ENABLED;
        online = false;
        assertEquals(HubErrorCode.DeviceNotOnline, failure(negotiator.initiate(request(Duration.ofSeconds(1))))
                .errorCode());
        assertTrue(delivered.isEmpty());
    }

    @Test
    void streamNamesThatCannotBeATopicLevelAreRefused() throws Exception {
        for (String name : new String[]{"", "a/b", "ssh+", "#", "x\u0000", "n".repeat(129)}) {
            StreamNegotiator.Request bad = new StreamNegotiator.Request("dev1", null, name, Duration.ZERO,
                    Duration.ofSeconds(1), "service");
            assertEquals(HubErrorCode.ArgumentInvalid, failure(negotiator.initiate(bad)).errorCode(), name);
        }
        assertTrue(delivered.isEmpty());
    }

    private static HubException failure(CompletableFuture<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(5, TimeUnit.SECONDS));
        return (HubException) e.getCause();
    }
}
