package io.ferryhub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.error.HubErrorCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Faults around running streams: refusing targets, ends that die mid-transfer, a device that loses the hub. */
class StreamFaultTest {
    @TempDir
    static Path dataDir;
    static StreamTestHub hub;
    static Proxies proxies;
    static int deadPort;

    @BeforeAll
    static void start() throws Exception {
        hub = new StreamTestHub(dataDir);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        proxies = new Proxies(hub, "fault-device", "echo",
                Map.of("refusing", new InetSocketAddress("127.0.0.1", deadPort)), true);
    }

    @AfterAll
    static void stop() {
        proxies.close();
        hub.close();
    }

    private static HttpResponse<String> initiate(String stream) throws Exception {
        return hub.initiate("/twins/fault-device/streams/" + stream, hub.serviceToken("service"), "5", "10");
    }

    @Test
    void aRefusingTargetMakesTheDeviceRejectTheStream() throws Exception {
        HttpResponse<String> response = initiate("refusing");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("False", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
    }

    @Test
    void anUnmappedStreamNameIsRejected() throws Exception {
        HttpResponse<String> response = initiate("rdp");
        assertEquals("False", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow());
    }

    @Test
    void aLocalClientKilledMidTransferLeavesNothingBehind() throws Exception {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port());
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        out.write(new byte[1_000_000]);
        in.readNBytes(1000);
        socket.setSoLinger(true, 0); // reset, not a clean close
        socket.close();
        proxies.awaitIdle();
    }

    @Test
    void theDeviceEndKilledMidTransferClosesTheLocalClient() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(new byte[]{1, 2, 3});
            assertArrayEquals(new byte[]{1, 2, 3}, socket.getInputStream().readNBytes(3));
            String streamId = proxies.hubStreams().get(0).get("streamId").asText();
            // The operator's close reaches both ends at once, as a dying device would.
            assertEquals(204, hub.owner("DELETE", "/streams/" + streamId, null, Map.of()).statusCode());
            assertEquals(-1, socket.getInputStream().read(), "the local client is closed too");
        }
        proxies.awaitIdle();
        assertEquals(404, hub.owner("DELETE", "/streams/nonexistent", null, Map.of()).statusCode());
    }

    @Test
    void aRunningStreamOutlivesTheDevicesHubConnectionAndNewOnesWaitForItsReturn() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxies.port())) {
            socket.setSoTimeout(20_000);
            byte[] before = "before the drop".getBytes();
            socket.getOutputStream().write(before);
            assertArrayEquals(before, socket.getInputStream().readNBytes(before.length));

            hub.hub.deviceConnections().disconnectDevice("fault-device", HubErrorCode.DeviceConnectionClosedRemotely);
            Proxies.await(() -> !proxies.device.isConnectedToHub(), "the device proxy noticed the drop");

            byte[] after = new byte[100_000];
            Arrays.fill(after, (byte) 7);
            socket.getOutputStream().write(after);
            assertArrayEquals(after, socket.getInputStream().readNBytes(after.length));

            // A new stream waits (connect timeout 5 s) for the device proxy to reconnect, then goes through.
            HttpResponse<String> response = initiate("echo");
            assertEquals("True", response.headers().firstValue("iothub-streaming-is-accepted").orElseThrow(),
                    response.body());
            assertTrue(proxies.device.isConnectedToHub());
            // Nobody opens the service end of that one: close it as the operator would.
            String url = response.headers().firstValue("iothub-streaming-url").orElseThrow();
            String streamId = url.substring(url.lastIndexOf('/') + 1);
            Proxies.await(() -> hasStream(streamId), "the device end of the new stream connected");
            assertEquals(204, hub.owner("DELETE", "/streams/" + streamId, null, Map.of()).statusCode());
        }
        proxies.awaitIdle();
    }

    private static boolean hasStream(String streamId) {
        try {
            for (JsonNode stream : proxies.hubStreams()) {
                if (stream.get("streamId").asText().equals(streamId)) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            return false;
        }
    }
}
