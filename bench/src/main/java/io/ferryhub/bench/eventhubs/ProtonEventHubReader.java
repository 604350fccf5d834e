package io.ferryhub.bench.eventhubs;

import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnknownDescribedType;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.ReceiverSettleMode;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.message.Message;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * An Event Hubs reader as the clients build one, on Proton-J over a JDK TLS socket: SASL ANONYMOUS, a CBS token
 * for the event hub, one receiver per partition from the start of the stream ({@code x-opt-offset > '-1'}) with a
 * prefetch credit topped up as events are taken, each event decoded and accepted. Single-threaded and blocking.
 */
final class ProtonEventHubReader implements AutoCloseable {
    private static final Symbol SELECTOR = Symbol.valueOf("apache.org:selector-filter:string");

    /** What a read took: events and body bytes. */
    record Totals(long events, long bodyBytes) {
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Transport transport = Proton.transport();
    private final Connection connection = Proton.connection();
    private final Session session;
    private final byte[] buffer = new byte[256 * 1024];
    private long tags;

    ProtonEventHubReader(SSLContext tls, String host, int port) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(host, port);
        // the reader's frames are small (credit, outcomes): Nagle would hold each back until the hub's ACK came
        ssl.setTcpNoDelay(true);
        ssl.setSoTimeout(30_000);
        ssl.startHandshake();
        // short reads from here on: the loop alternates between reading and writing on one thread
        ssl.setSoTimeout(20);
        socket = ssl;
        in = socket.getInputStream();
        out = socket.getOutputStream();
        Sasl sasl = transport.sasl();
        sasl.client();
        sasl.setMechanisms("ANONYMOUS");
        connection.setHostname(host);
        connection.setContainer("bench-" + UUID.randomUUID());
        transport.bind(connection);
        connection.open();
        session = connection.session();
        session.open();
    }

    /** Puts a token on $cbs for {@code audience}; fails unless the hub answers 200. */
    void authorize(String audience, String token, Duration timeout) throws IOException {
        Sender requests = session.sender("cbs-requests");
        Target target = new Target();
        target.setAddress("$cbs");
        requests.setTarget(target);
        requests.setSource(new Source());
        requests.open();
        Receiver replies = session.receiver("cbs-replies");
        Source source = new Source();
        source.setAddress("$cbs");
        replies.setSource(source);
        Target replyTo = new Target();
        replyTo.setAddress("cbs-reply-to");
        replies.setTarget(replyTo);
        replies.open();
        replies.flow(1);
        Message request = Message.Factory.create();
        Properties properties = new Properties();
        properties.setMessageId("put-token-1");
        properties.setReplyTo("cbs-reply-to");
        request.setProperties(properties);
        request.setApplicationProperties(new ApplicationProperties(Map.of("operation", "put-token",
                "type", "servicebus.windows.net:sastoken", "name", audience)));
        request.setBody(new AmqpValue(token));
        byte[] encoded = new byte[8192];
        int n = request.encode(encoded, 0, encoded.length);
        requests.delivery(new byte[]{0});
        requests.send(encoded, 0, n);
        requests.advance();
        pumpUntil(() -> replies.current() != null && !replies.current().isPartial(), timeout);
        Delivery d = replies.current();
        byte[] bytes = new byte[d.pending()];
        replies.recv(bytes, 0, bytes.length);
        replies.advance();
        d.settle();
        Message reply = Message.Factory.create();
        reply.decode(bytes, 0, bytes.length);
        Object status = reply.getApplicationProperties().getValue().get("status-code");
        if (!Integer.valueOf(200).equals(status)) {
            throw new IOException("put-token answered " + status + ": "
                    + reply.getApplicationProperties().getValue().get("status-description"));
        }
    }

    /**
     * Reads {@code eventsPerPartition} events from the start of each partition, concurrently on one connection,
     * and returns what was read.
     */
    Totals read(String eventHub, String consumerGroup, List<Integer> partitions, long eventsPerPartition, int credit,
                Duration timeout) throws IOException {
        List<Receiver> receivers = new ArrayList<>();
        long[] taken = new long[partitions.size()];
        for (int partition : partitions) {
            Receiver r = session.receiver("bench-" + partition + "-" + UUID.randomUUID());
            Source source = new Source();
            source.setAddress(eventHub + "/ConsumerGroups/" + consumerGroup + "/Partitions/" + partition);
            source.setFilter(Map.of(SELECTOR, new UnknownDescribedType(SELECTOR,
                    "amqp.annotation.x-opt-offset > '-1'")));
            r.setSource(source);
            r.setTarget(new Target());
            r.setSenderSettleMode(SenderSettleMode.UNSETTLED);
            r.setReceiverSettleMode(ReceiverSettleMode.FIRST);
            r.open();
            r.flow(credit);
            receivers.add(r);
        }
        long[] bodyBytes = new long[1];
        pumpUntil(() -> {
            boolean done = true;
            for (int i = 0; i < receivers.size(); i++) {
                Receiver r = receivers.get(i);
                if (r.getRemoteState() == EndpointState.CLOSED) {
                    throw new IllegalStateException("the hub detached partition " + partitions.get(i) + ": "
                            + r.getRemoteCondition());
                }
                Delivery d;
                while ((d = r.current()) != null && d.isReadable() && !d.isPartial()) {
                    byte[] bytes = new byte[d.pending()];
                    r.recv(bytes, 0, bytes.length);
                    r.advance();
                    Message m = Message.Factory.create();
                    m.decode(bytes, 0, bytes.length);
                    if (m.getBody() instanceof Data data) {
                        Binary body = data.getValue();
                        bodyBytes[0] += body.getLength();
                    }
                    d.disposition(Accepted.getInstance());
                    d.settle();
                    taken[i]++;
                }
                long wanted = eventsPerPartition - taken[i];
                if (wanted > 0 && r.getCredit() < credit / 2) {
                    r.flow((int) Math.min(credit - r.getCredit(), wanted));
                }
                done &= wanted <= 0;
            }
            return done;
        }, timeout);
        long events = 0;
        for (int i = 0; i < receivers.size(); i++) {
            events += taken[i];
            receivers.get(i).close();
        }
        return new Totals(events, bodyBytes[0]);
    }

    /** Moves bytes both ways until {@code done} holds; fails on timeout or a closed transport. */
    private void pumpUntil(BooleanSupplier done, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean finished = done.getAsBoolean();
            // what the check produced (credit top-ups, outcomes) leaves before the read that may wait for its answer
            flushOutput();
            if (finished) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the hub did not deliver in " + timeout.toSeconds() + " s");
            }
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("the hub closed the connection");
                }
                int offset = 0;
                while (offset < n) {
                    int chunk = Math.min(transport.capacity(), n - offset);
                    if (chunk <= 0) {
                        throw new IOException("the AMQP transport closed");
                    }
                    transport.tail().put(buffer, offset, chunk);
                    transport.process();
                    offset += chunk;
                }
            } catch (SocketTimeoutException idle) {
                // nothing to read this round
            }
        }
    }

    private void flushOutput() throws IOException {
        int pending;
        while ((pending = transport.pending()) > 0) {
            ByteBuffer head = transport.head();
            byte[] bytes = new byte[head.remaining()];
            head.get(bytes);
            transport.pop(bytes.length);
            out.write(bytes);
        }
        out.flush();
        if (pending < 0) {
            throw new IOException("the AMQP transport closed");
        }
    }

    @Override
    public void close() {
        try {
            connection.close();
            flushOutput();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
