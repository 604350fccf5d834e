package io.ferryhub.hub.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.fuzz.FuzzHub;
import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.ferryhub.hub.server.HubConfig;
import io.ferryhub.hub.server.HubServer;
import io.ferryhub.hub.service.methods.DirectMethodService;
import io.ferryhub.hub.service.registry.Authentication;
import io.ferryhub.hub.service.registry.Device;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.ferryhub.hub.service.telemetry.EventData;
import io.ferryhub.hub.service.telemetry.EventPosition;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.hub.storage.eventlog.EventLog;
import io.ferryhub.hub.storage.eventlog.EventReader;
import io.ferryhub.hub.storage.sessions.SessionStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the MQTT device endpoint: Netty's {@code MqttDecoder} and the hub's CONNECT handler and session (ACL, topic
 * dispatch, telemetry and direct-method handlers), on an {@link EmbeddedChannel}. The corpus holds whole client byte
 * streams (a CONNECT with a valid SAS token for {@code fuzz-device}, then SUBSCRIBEs, PUBLISHes, PINGREQ...). Per
 * input, the only documented outcomes are answers (CONNACK, SUBACK, PUBACK...) and a close: no exception may reach
 * the end of the pipeline, and once the connection is closed the device must no longer be registered as connected.
 *
 * <p>Registry, authenticator and connection registry are a real hub's; the telemetry log and the session store are
 * in memory and complete at once, so that everything runs on the embedded channel's thread.
 */
class MqttFuzzTest {
    static final String DEVICE = FuzzHub.DEVICE;
    static final String KEY = FuzzHub.KEY;

    @TempDir
    static Path dir;
    private static HubServer hub;
    private static MqttDeviceEndpoint endpoint;

    @BeforeAll
    static void start() throws Exception {
        hub = HubServer.start(HubConfig.ephemeral(dir));
        hub.registry().putDevice(DEVICE, new Device(DEVICE, null, null, null, null, null,
                Authentication.sas(KEY, KEY), false, null, null), null);
        MqttTopicHandlers handlers = new MqttTopicHandlers();
        handlers.add(new TelemetryTopicHandler(new TelemetryService(new FuzzHub.MemoryEventLog())));
        handlers.add(new MethodTopicHandler(new DirectMethodService(hub.registry(), hub.deviceConnections(),
                hub.scheduler(), Runnable::run)));
        PersistentSessions sessions = new PersistentSessions(new FuzzHub.MemorySessionStore(), hub.registry(),
                java.time.InstantSource.system(), Duration.ofDays(1));
        endpoint = new MqttDeviceEndpoint(hub.deviceAuthenticator(), hub.deviceConnections(), sessions, handlers,
                Runnable::run, MqttSettings.DEFAULTS, FuzzHub.GUARD);
    }

    @AfterAll
    static void stop() {
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    void theCorpusConnects() throws Exception {
        // The corpus is only worth mutating if its CONNECT is accepted: the session's code is behind it.
        byte[] first = Fuzzer.forCorpus("mqtt").corpus().get(0);
        EmbeddedChannel ch = new EmbeddedChannel();
        endpoint.addMqttHandlers(ch.pipeline(), "mqtt");
        ch.writeInbound(Unpooled.wrappedBuffer(first));
        ch.runPendingTasks();
        ByteBuf connack = ch.readOutbound();
        try {
            assertEquals(0x20, connack.getUnsignedByte(0), "CONNACK");
            assertEquals(MqttConnectReturnCode.CONNECTION_ACCEPTED.byteValue(), connack.getByte(3));
        } finally {
            connack.release();
        }
        ch.finishAndReleaseAll();
        assertFalse(hub.deviceConnections().isConnected(DEVICE, null));
    }

    @Test
    void mutatedClientStreamsGetAnswersOrACloseNeverAnException() throws Exception {
        Fuzzer.forCorpus("mqtt")
                .dictionary("devices/fuzz-device/messages/events/", "devices/fuzz-device/messages/devicebound/#",
                        "$iothub/methods/POST/#", "$iothub/methods/res/200/?$rid=", "$iothub/twin/", "#", "+", "/",
                        "$.ct=application%2Fjson&$.ce=utf-8", "%", "&", "=", "?")
                .run(MqttFuzzTest::feed);
    }

    static void feed(byte[] input) {
        EmbeddedChannel ch = new EmbeddedChannel();
        try {
            endpoint.addMqttHandlers(ch.pipeline(), "mqtt");
            // in two reads, split where the input says, so that packets also arrive cut in two
            int cut = input.length == 0 ? 0 : (input[input.length - 1] & 0xff) % (input.length + 1);
            ch.writeInbound(Unpooled.wrappedBuffer(input, 0, cut));
            ch.runPendingTasks();
            if (ch.isOpen()) {
                ch.writeInbound(Unpooled.wrappedBuffer(input, cut, input.length - cut));
                ch.runPendingTasks();
            }
            ch.checkException();
        } finally {
            ch.finishAndReleaseAll();
        }
        if (hub.deviceConnections().isConnected(DEVICE, null)) {
            throw new AssertionError("the closed connection is still registered");
        }
    }

    // ---- the corpus, written once with -Dfuzz.writeCorpus=true (then committed) ---------------------------------

    @Test
    void writeCorpusWhenAsked() throws Exception {
        if (!Boolean.getBoolean("fuzz.writeCorpus")) {
            return;
        }
        Path out = Path.of("src/test/resources/fuzz/mqtt");
        Files.createDirectories(out);
        String token = SasToken.create(hub.hostName() + "/devices/" + DEVICE, KEY, null,
                Instant.parse("2100-01-01T00:00:00Z"));
        MqttMessage connect = MqttMessageBuilders.connect().clientId(DEVICE).protocolVersion(MqttVersion.MQTT_3_1_1)
                .username(hub.hostName() + "/" + DEVICE + "/?api-version=2021-04-12")
                .password(token.getBytes(StandardCharsets.UTF_8)).cleanSession(true).keepAlive(60).build();
        MqttMessage connectWill = MqttMessageBuilders.connect().clientId(DEVICE)
                .protocolVersion(MqttVersion.MQTT_3_1_1)
                .username(hub.hostName() + "/" + DEVICE + "/?api-version=2021-04-12")
                .password(token.getBytes(StandardCharsets.UTF_8)).cleanSession(false).keepAlive(0).willFlag(true)
                .willTopic("devices/" + DEVICE + "/messages/events/").willMessage("bye".getBytes(StandardCharsets.UTF_8))
                .willQoS(MqttQoS.AT_LEAST_ONCE).build();
        MqttMessage badPassword = MqttMessageBuilders.connect().clientId(DEVICE)
                .protocolVersion(MqttVersion.MQTT_3_1_1).username(hub.hostName() + "/" + DEVICE)
                .password("SharedAccessSignature sr=x&sig=y&se=1".getBytes(StandardCharsets.UTF_8)).build();
        MqttMessage subC2d = MqttMessageBuilders.subscribe().messageId(1)
                .addSubscription(MqttQoS.AT_LEAST_ONCE, "devices/" + DEVICE + "/messages/devicebound/#").build();
        MqttMessage subMethods = MqttMessageBuilders.subscribe().messageId(2)
                .addSubscription(MqttQoS.AT_MOST_ONCE, "$iothub/methods/POST/#")
                .addSubscription(MqttQoS.AT_MOST_ONCE, "$iothub/twin/res/#").build();
        MqttMessage unsub = MqttMessageBuilders.unsubscribe().messageId(3).addTopicFilter("$iothub/methods/POST/#")
                .build();
        MqttMessage telemetry = MqttMessageBuilders.publish().topicName("devices/" + DEVICE
                + "/messages/events/$.ct=application%2Fjson&$.ce=utf-8&a=1&b=%20x").qos(MqttQoS.AT_LEAST_ONCE)
                .messageId(4).payload(Unpooled.copiedBuffer("{\"t\":21.5}", StandardCharsets.UTF_8)).build();
        MqttMessage telemetry0 = MqttMessageBuilders.publish().topicName("devices/" + DEVICE + "/messages/events/")
                .qos(MqttQoS.AT_MOST_ONCE).payload(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})).build();
        MqttMessage methodAnswer = MqttMessageBuilders.publish().topicName("$iothub/methods/res/200/?$rid=1")
                .qos(MqttQoS.AT_MOST_ONCE).payload(Unpooled.copiedBuffer("{}", StandardCharsets.UTF_8)).build();
        MqttMessage otherDevice = MqttMessageBuilders.publish().topicName("devices/other/messages/events/")
                .qos(MqttQoS.AT_LEAST_ONCE).messageId(5).payload(Unpooled.EMPTY_BUFFER).build();
        MqttMessage ping = new MqttMessage(new MqttFixedHeader(MqttMessageType.PINGREQ, false, MqttQoS.AT_MOST_ONCE,
                false, 0));
        MqttMessage disconnect = new MqttMessage(new MqttFixedHeader(MqttMessageType.DISCONNECT, false,
                MqttQoS.AT_MOST_ONCE, false, 0));
        Map<String, List<MqttMessage>> files = Map.of(
                "01-connect-subscribe-publish-ping.bin", List.of(connect, subC2d, telemetry, ping, disconnect),
                "02-connect-properties.bin", List.of(connect, telemetry0, telemetry, disconnect),
                "03-connect-methods.bin", List.of(connect, subMethods, methodAnswer, unsub, ping),
                "04-connect-will.bin", List.of(connectWill, telemetry0, otherDevice),
                "05-bad-password.bin", List.of(badPassword, telemetry0),
                "06-publish-before-connect.bin", List.of(telemetry, connect, subC2d));
        for (var file : files.entrySet()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (MqttMessage m : file.getValue()) {
                EmbeddedChannel enc = new EmbeddedChannel(MqttEncoder.INSTANCE);
                if (m.payload() instanceof ByteBuf b) {
                    b.retain();
                }
                enc.writeOutbound(m);
                ByteBuf encoded = enc.readOutbound();
                byte[] copy = new byte[encoded.readableBytes()];
                encoded.readBytes(copy);
                encoded.release();
                bytes.write(copy);
                enc.finishAndReleaseAll();
            }
            Files.write(out.resolve(file.getKey()), bytes.toByteArray());
        }
    }
}
