package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.client.mqtt.HubEndpoint;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.common.tls.ClientTls;
import io.ferryhub.deviceproxy.DeviceProxy;
import io.ferryhub.gateway.StreamRecording;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.serviceproxy.ServiceProxy;
import io.ferryhub.testsupport.Await;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code iothub stream list|close} against a hub relaying a real stream between the two proxies. */
class StreamCliTest {
    @TempDir
    static Path dataDir;
    static HubServer hub;
    static DeviceProxy deviceProxy;
    static ServiceProxy serviceProxy;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dataDir).withHostName("localhost"));
        assertEquals(0, iothub("device", "create", "cli-stream-device").status());
        ConnectionString device = ConnectionString.parse(
                iothub("device", "connection-string", "cli-stream-device").out().trim());
        SslContext tls = ClientTls.trusting(hub.caCertificatePath());
        deviceProxy = new DeviceProxy(device, new HubEndpoint("localhost", hub.mqttPort(), tls), Map.of(), true, tls);
        deviceProxy.start().get(30, TimeUnit.SECONDS);
        serviceProxy = new ServiceProxy(ConnectionString.parse(hub.ownerConnectionString()),
                URI.create("https://localhost:" + hub.httpsPort()), tls,
                new ServiceProxy.Target("cli-stream-device", null, "echo", Duration.ZERO, Duration.ofSeconds(30)),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterAll
    static void stop() {
        serviceProxy.close();
        deviceProxy.close();
        hub.close();
    }

    static CliResult iothub(String... argv) {
        return CliResult.against(hub, dataDir, argv);
    }

    @Test
    void listsAndClosesARunningStream() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), serviceProxy.localAddress().getPort())) {
            socket.setSoTimeout(20_000);
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            socket.getOutputStream().write(hello);
            assertArrayEquals(hello, socket.getInputStream().readNBytes(hello.length));

            CliResult listed = iothub("stream", "list", "--json");
            assertEquals(0, listed.status(), listed.err());
            JsonNode streams = Json.parse(listed.out());
            assertEquals(1, streams.size(), listed.out());
            assertEquals("cli-stream-device", streams.get(0).get("deviceId").asText());
            assertEquals(5, streams.get(0).get("bytesServiceToDevice").asLong(), listed.out());
            assertEquals(5, streams.get(0).get("bytesDeviceToService").asLong(), listed.out());
            String streamId = streams.get(0).get("streamId").asText();

            CliResult table = iothub("stream", "list");
            assertTrue(table.out().contains(streamId) && table.out().contains("relaying"), table.out());

            CliResult closed = iothub("stream", "close", streamId);
            assertEquals(0, closed.status(), closed.err());
            assertEquals("closed stream " + streamId + "\n", closed.out());
            assertEquals(-1, socket.getInputStream().read(), "the local client's connection ends with the stream");

            CliResult again = iothub("stream", "close", streamId);
            assertEquals(1, again.status());
            assertTrue(again.err().contains("404105"), again.err());
        }
    }

    @Test
    void setsShowsAndClearsAStreamPolicy() throws Exception {
        String policy = "{\"rules\":[{\"name\":\"office\",\"policies\":[\"service\"],\"streams\":[\"ssh\"],"
                + "\"hours\":{\"days\":[\"Mon\",\"Fri\"],\"from\":\"08:00\",\"to\":\"18:00\","
                + "\"timeZone\":\"Europe/Paris\"}}]}";
        CliResult set = iothub("stream", "policy", "set", "cli-stream-device", policy);
        assertEquals(0, set.status(), set.err());
        assertTrue(set.out().contains("1 rule(s), recording off"), set.out());
        assertTrue(set.out().contains("office") && set.out().contains("Mon,Fri 08:00-18:00 Europe/Paris"),
                set.out());
        CliResult json = iothub("stream", "policy", "show", "cli-stream-device", "--json");
        assertEquals(0, json.status(), json.err());
        assertEquals("ssh", Json.parse(json.out()).at("/rules/0/streams/0").asText());
        // an invalid policy: exit status 1 and one line saying what is wrong
        CliResult denied = iothub("stream", "policy", "set", "cli-stream-device",
                "{\"rules\":[{\"name\":\"x\",\"hours\":{\"from\":\"8\",\"to\":\"9\"}}]}");
        assertEquals(1, denied.status());
        assertEquals(1, denied.err().strip().lines().count(), denied.err());
        assertTrue(denied.err().contains("from and to must be HH:MM"), denied.err());
        CliResult cleared = iothub("stream", "policy", "clear", "cli-stream-device");
        assertEquals(0, cleared.status(), cleared.err());
        CliResult none = iothub("stream", "policy", "show", "cli-stream-device");
        assertEquals(1, none.status());
        assertTrue(none.err().contains("has no stream policy"), none.err());
    }

    @Test
    void listsShowsAndExtractsARecording() throws Exception {
        assertEquals(0, iothub("stream", "policy", "set", "cli-stream-device",
                "{\"rules\":[{\"name\":\"anyone\"}],\"record\":true}").status());
        try {
            byte[] typed = "ls -l /tmp\nexit\n".getBytes(StandardCharsets.US_ASCII);
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(),
                    serviceProxy.localAddress().getPort())) {
                socket.setSoTimeout(20_000);
                socket.getOutputStream().write(typed);
                assertArrayEquals(typed, socket.getInputStream().readNBytes(typed.length));
            }
            JsonNode recording = Await.value(Duration.ofSeconds(30), () -> {
                CliResult listed = iothub("stream", "recording", "list", "--json");
                assertEquals(0, listed.status(), listed.err());
                for (JsonNode r : Json.parse(listed.out())) {
                    if (r.path("bytesFirstToSecond").asLong() == typed.length
                            && r.path("bytesSecondToFirst").asLong() == typed.length) {
                        return r;
                    }
                }
                return null;
            });
            assertTrue(recording != null, "no complete recording listed");
            assertEquals("cli-stream-device", recording.path("deviceId").asText());
            assertTrue(recording.path("first").asText().matches("device|service"), recording.toString());
            assertEquals(typed.length, recording.path("bytesServiceToDevice").asLong(), recording.toString());
            assertEquals(typed.length, recording.path("bytesDeviceToService").asLong(), recording.toString());
            String file = recording.path("file").asText();
            CliResult shown = iothub("stream", "recording", "show", file);
            assertEquals(0, shown.status(), shown.err());
            assertTrue(shown.out().contains("'echo' of cli-stream-device by iothubowner"), shown.out());
            assertTrue(shown.out().contains("ls -l /tmp.exit."), shown.out());
            assertTrue(shown.out().contains("service->device"), shown.out());
            assertTrue(shown.out().contains("device->service"), shown.out());
            Path extracted = dataDir.resolve("extracted.bin");
            CliResult extract = iothub("stream", "recording", "extract", file, "--direction", "service", "--out",
                    extracted.toString());
            assertEquals(0, extract.status(), extract.err());
            assertTrue(extract.out().contains("sent by the service end"), extract.out());
            assertArrayEquals(typed, Files.readAllBytes(extracted));
        } finally {
            iothub("stream", "policy", "clear", "cli-stream-device");
        }
    }

    /** A recording made before recordings said which end is which still reads, by order of connection. */
    @Test
    void aRecordingWithoutSidesReadsByOrderOfConnection() throws Exception {
        Path file = dataDir.resolve("old-format" + StreamRecording.SUFFIX);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(("{\"format\":\"ferryhub-recording/1\",\"streamId\":\"abc\",\"hubName\":\"h\","
                + "\"deviceId\":\"old-device\",\"moduleId\":null,\"streamName\":\"ssh\",\"initiator\":\"service\","
                + "\"mode\":\"stream\",\"start\":\"2026-01-01T00:00:00Z\"}\n").getBytes(StandardCharsets.UTF_8));
        DataOutputStream records = new DataOutputStream(bytes);
        records.writeByte(StreamRecording.FIRST_TO_SECOND);
        records.writeLong(5);
        records.writeInt(3);
        records.write("one".getBytes(StandardCharsets.US_ASCII));
        records.writeByte(StreamRecording.SECOND_TO_FIRST);
        records.writeLong(9);
        records.writeInt(3);
        records.write("two".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, bytes.toByteArray());

        CliResult shown = iothub("stream", "recording", "show", file.toString());
        assertEquals(0, shown.status(), shown.err());
        assertTrue(shown.out().contains("1->2") && shown.out().contains("2->1"), shown.out());
        Path extracted = dataDir.resolve("old-extracted.bin");
        CliResult bySide = iothub("stream", "recording", "extract", file.toString(), "--direction", "device", "--out",
                extracted.toString());
        assertEquals(1, bySide.status());
        assertTrue(bySide.err().contains("use --direction first or second"), bySide.err());
        CliResult byOrder = iothub("stream", "recording", "extract", file.toString(), "--direction", "second", "--out",
                extracted.toString());
        assertEquals(0, byOrder.status(), byOrder.err());
        assertArrayEquals("two".getBytes(StandardCharsets.US_ASCII), Files.readAllBytes(extracted));
    }
}
