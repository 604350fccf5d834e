package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.hub.service.c2d.OutgoingMessage;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Debian's mosquitto_pub and mosquitto_sub (MQTT clients we did not write) against the endpoint over TLS. */
class MqttMosquittoTest {
    private static MqttTestHub hub;

    @BeforeAll
    static void start() throws Exception {
        hub = new MqttTestHub();
    }

    @AfterAll
    static void stop() throws Exception {
        hub.close();
    }

    private static List<String> command(String tool, String deviceId, String password) {
        List<String> command = new ArrayList<>(List.of(tool, "-h", MqttTestHub.HOST,
                "-p", Integer.toString(hub.port()), "--cafile", hub.caFile().getAbsolutePath(), "-V", "mqttv311",
                "-i", deviceId, "-u", MqttTestHub.HOST + "/" + deviceId + "/?api-version=2021-04-12"));
        command.add("-P");
        command.add(password);
        return command;
    }

    private static Process start(List<String> command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String finish(Process process) throws Exception {
        try {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the mosquitto client did not finish");
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void mosquittoPubSendsTelemetryWithProperties() throws Exception {
        String key = hub.register("mosq-dev");
        List<String> command = command("mosquitto_pub", "mosq-dev", hub.token("mosq-dev", key));
        command.addAll(List.of("-q", "1", "-t", "devices/mosq-dev/messages/events/%24.mid=m-1&%24.ct=text%2Fplain&room=42",
                "-m", "temperature 21.5"));
        Process process = start(command);
        String output = finish(process);
        assertEquals(0, process.exitValue(), output);

        List<StoredEvent> events = hub.eventsOf("mosq-dev");
        assertEquals(1, events.size());
        StoredEvent event = events.get(0);
        assertEquals("temperature 21.5", new String(event.data().body(), StandardCharsets.UTF_8));
        assertEquals("m-1", event.data().systemProperties().get("message-id"));
        assertEquals("text/plain", event.data().systemProperties().get("content-type"));
        assertEquals(Map.of("room", "42"), event.data().applicationProperties());
    }

    @Test
    void mosquittoPubWithAWrongTokenIsRefused() throws Exception {
        hub.register("mosq-bad");
        String otherKey = java.util.Base64.getEncoder().encodeToString(new byte[32]);
        List<String> command = command("mosquitto_pub", "mosq-bad", hub.token("mosq-bad", otherKey));
        command.addAll(List.of("-q", "1", "-t", "devices/mosq-bad/messages/events/", "-m", "x"));
        Process process = start(command);
        String output = finish(process);
        assertTrue(process.exitValue() != 0, output);
        assertTrue(output.toLowerCase().contains("not authorised") || output.toLowerCase().contains("not authorized"),
                output);
        assertEquals(0, hub.eventsOf("mosq-bad").size());
    }

    @Test
    void mosquittoSubReceivesCloudToDeviceMessages() throws Exception {
        String key = hub.register("mosq-sub");
        List<String> command = command("mosquitto_sub", "mosq-sub", hub.token("mosq-sub", key));
        command.addAll(List.of("-q", "1", "-t", "devices/mosq-sub/messages/devicebound/#", "-C", "1", "-v",
                "-W", "30"));
        Process process = start(command);
        try {
            String probe = "devices/mosq-sub/messages/devicebound/x";
            assertTrue(MqttConnectTest.waitFor(() -> hub.connections.find("mosq-sub", null)
                    .map(link -> ((MqttDeviceSession) link).isSubscribed(probe)).orElse(false)));
            hub.c2d.send("mosq-sub", new OutgoingMessage("c-1", null, null, null, null, Map.of("cmd", "reboot"),
                    "now".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
            String output = finish(process);
            assertEquals(0, process.exitValue(), output);
            String line = output.trim();
            assertTrue(line.startsWith("devices/mosq-sub/messages/devicebound/%24.mid=c-1&%24.to="), line);
            assertTrue(line.endsWith("&iothub-ack=none&cmd=reboot now"), line);
            assertTrue(MqttConnectTest.waitFor(() -> hub.c2d.queueDepth("mosq-sub").join() == 0));
        } finally {
            process.destroyForcibly();
        }
    }
}
