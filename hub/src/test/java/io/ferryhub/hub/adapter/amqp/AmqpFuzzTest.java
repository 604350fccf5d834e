package io.ferryhub.hub.adapter.amqp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.hub.fuzz.FuzzHub;
import io.ferryhub.testsupport.fuzz.Fuzzer;
import io.ferryhub.hub.fuzz.LocalPeer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes the AMQP endpoint: the hub's {@code AmqpConnection} driving Proton-J's transport (SASL, frames, performatives,
 * CBS put-token, link attach, deliveries), on Netty's in-VM transport. The corpus holds client byte streams written by
 * a Proton-J client (SASL ANONYMOUS or PLAIN, open, begin, attach to the CBS node and the telemetry node, a transfer).
 * Documented outcomes: AMQP answers, errors (close with a condition) and closes; failures: an exception that reaches
 * the end of the pipeline, or a connection that does not close after its client closed.
 */
class AmqpFuzzTest {
    @TempDir
    static Path dir;
    private static FuzzHub fuzzHub;
    private static LocalPeer amqp;

    @BeforeAll
    static void start() throws Exception {
        fuzzHub = new FuzzHub(dir);
        amqp = new LocalPeer(p -> fuzzHub.amqp.addAmqpHandlers(p, "amqp"));
    }

    @AfterAll
    static void stop() {
        if (amqp != null) {
            amqp.close();
        }
        if (fuzzHub != null) {
            fuzzHub.close();
        }
    }

    @Test
    void theCorpusGetsAnAmqpAnswer() throws Exception {
        for (byte[] input : Fuzzer.forCorpus("amqp").corpus()) {
            LocalPeer.Exchange e = amqp.exchange(input, Duration.ofSeconds(20), ch -> true);
            assertTrue(e.answer().length >= 8 && e.answer()[0] == 'A' && e.answer()[1] == 'M',
                    "no AMQP header in the answer");
        }
    }

    @Test
    void mutatedClientStreamsNeverEscapeTheConnection() throws Exception {
        Fuzzer.forCorpus("amqp")
                .dictionary("AMQP\0\1\0\0", "AMQP\3\1\0\0", "$cbs", "put-token", "servicebus.windows.net:sastoken",
                        "/devices/fuzz-device/messages/events", "/devices/fuzz-device/messages/deviceBound",
                        "/devices/fuzz-device/twin", "/devices/fuzz-device/methods/devicebound", "PLAIN",
                        "ANONYMOUS", "MSSBCBS")
                .run(input -> {
                    LocalPeer.Exchange e = amqp.exchange(input, Duration.ofSeconds(4), ch -> true);
                    if (e.unhandled() != null) {
                        throw new AssertionError("an exception reached the end of the pipeline", e.unhandled());
                    }
                });
    }

    // ---- the corpus, written once with -Dfuzz.writeCorpus=true (then committed) ---------------------------------

    @Test
    void writeCorpusWhenAsked() throws Exception {
        if (!Boolean.getBoolean("fuzz.writeCorpus")) {
            return;
        }
        Path out = Path.of("src/test/resources/fuzz/amqp");
        Files.createDirectories(out);
        Files.write(out.resolve("01-anonymous-cbs-telemetry.bin"), client(false, true));
        Files.write(out.resolve("02-plain-telemetry.bin"), client(true, false));
    }

    /** The bytes a Proton-J client sends: SASL, open, begin, attach (CBS and telemetry), a put-token and a message. */
    private static byte[] client(boolean plain, boolean cbs) {
        Transport transport = Proton.transport();
        Sasl sasl = transport.sasl();
        sasl.client();
        if (plain) {
            sasl.plain(FuzzHub.DEVICE + "@sas." + fuzzHub.hub.hostName(), fuzzHub.deviceToken());
        } else {
            sasl.setMechanisms("ANONYMOUS");
        }
        Connection connection = Proton.connection();
        connection.setHostname(fuzzHub.hub.hostName());
        connection.setContainer("fuzz");
        transport.bind(connection);
        connection.open();
        Session session = connection.session();
        session.open();
        if (cbs) {
            Sender put = session.sender("cbs-sender");
            Target t = new Target();
            t.setAddress("$cbs");
            put.setTarget(t);
            put.setSource(new Source());
            put.open();
            Message token = Proton.message();
            token.setBody(new AmqpValue(fuzzHub.deviceToken()));
            token.setApplicationProperties(new org.apache.qpid.proton.amqp.messaging.ApplicationProperties(Map.of(
                    "operation", "put-token", "type", "servicebus.windows.net:sastoken",
                    "name", fuzzHub.hub.hostName() + "/devices/" + FuzzHub.DEVICE)));
            token.setReplyTo("cbs");
            token.setMessageId("1");
            send(put, token);
        }
        Sender telemetry = session.sender("telemetry");
        Target target = new Target();
        target.setAddress("/devices/" + FuzzHub.DEVICE + "/messages/events");
        telemetry.setTarget(target);
        telemetry.setSource(new Source());
        telemetry.open();
        Message m = Proton.message();
        m.setBody(new AmqpValue("hello"));
        m.setMessageAnnotations(new org.apache.qpid.proton.amqp.messaging.MessageAnnotations(Map.of(
                Symbol.valueOf("x-opt-a"), 1)));
        send(telemetry, m);
        // A Proton-J server on the other side answers SASL, so that the client goes on to open, attach and send.
        Transport server = Proton.transport();
        Sasl serverSasl = server.sasl();
        serverSasl.server();
        serverSasl.setMechanisms("ANONYMOUS", "PLAIN");
        Connection serverConnection = Proton.connection();
        server.bind(serverConnection);
        serverConnection.open();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            byte[] chunk = drain(transport);
            bytes.writeBytes(chunk);
            feed(server, chunk);
            if (serverSasl.getRemoteMechanisms().length > 0 && serverSasl.getOutcome() == Sasl.SaslOutcome.PN_SASL_NONE) {
                serverSasl.done(Sasl.SaslOutcome.PN_SASL_OK);
            }
            java.util.EnumSet<org.apache.qpid.proton.engine.EndpointState> fresh =
                    java.util.EnumSet.of(org.apache.qpid.proton.engine.EndpointState.UNINITIALIZED);
            java.util.EnumSet<org.apache.qpid.proton.engine.EndpointState> active =
                    java.util.EnumSet.of(org.apache.qpid.proton.engine.EndpointState.ACTIVE);
            for (Session s = serverConnection.sessionHead(fresh, active); s != null; s = s.next(fresh, active)) {
                s.open();
            }
            for (var l = serverConnection.linkHead(fresh, active); l != null; l = l.next(fresh, active)) {
                l.setSource(l.getRemoteSource());
                l.setTarget(l.getRemoteTarget());
                l.open();
                if (l instanceof org.apache.qpid.proton.engine.Receiver r) {
                    r.flow(10);
                }
            }
            feed(transport, drain(server));
        }
        return bytes.toByteArray();
    }

    private static byte[] drain(Transport t) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int pending = t.pending(); pending > 0; pending = t.pending()) {
            byte[] chunk = new byte[pending];
            t.head().get(chunk);
            t.pop(pending);
            out.writeBytes(chunk);
        }
        return out.toByteArray();
    }

    private static void feed(Transport t, byte[] data) {
        int at = 0;
        while (at < data.length) {
            int n = Math.min(t.capacity(), data.length - at);
            if (n <= 0) {
                break;
            }
            t.tail().put(data, at, n);
            t.process();
            at += n;
        }
    }

    private static void send(Sender sender, Message m) {
        byte[] buffer = new byte[4096];
        int n = m.encode(buffer, 0, buffer.length);
        sender.delivery(new byte[] {1});
        sender.send(buffer, 0, n);
        sender.advance();
    }
}
