package io.ferryhub.hub.adapter.amqp;

import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Link;
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
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/**
 * A blocking AMQP 1.0 client on Proton-J's engine (the engine the Azure SDKs use) over a JDK TLS socket: the test
 * peer. Nothing of the hub's code is used.
 */
final class ProtonClient implements AutoCloseable {
    enum SaslMode { NONE, ANONYMOUS, PLAIN }

    /** Generous: a loaded machine can take long for any step; nothing waits the whole time unless it fails. */
    private static final long WAIT_MILLIS = 60_000;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    final Transport transport;
    final Connection connection;
    final Session session;
    private final Collector collector;
    private Sender cbsSender;
    private Receiver cbsReceiver;
    private long tags;
    /** The status-description of the last CBS reply. */
    String lastStatusDescription;

    ProtonClient(SSLContext tls, int port, SaslMode mode, String user, String password) throws Exception {
        this(tls, port, null, mode, user, password);
    }

    /** A client connecting from {@code local} (any address of 127/8 is a distinct peer to the hub), or any. */
    ProtonClient(SSLContext tls, int port, InetAddress local, SaslMode mode, String user, String password)
            throws Exception {
        SSLSocket ssl = (SSLSocket) (local == null ? tls.getSocketFactory().createSocket("localhost", port)
                : tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port, local, 0));
        ssl.startHandshake();
        socket = ssl;
        socket.setSoTimeout(20);
        in = socket.getInputStream();
        out = socket.getOutputStream();
        transport = Proton.transport();
        if (mode != SaslMode.NONE) {
            Sasl sasl = transport.sasl();
            sasl.client();
            if (mode == SaslMode.ANONYMOUS) {
                sasl.setMechanisms("ANONYMOUS");
            } else {
                sasl.plain(user, password);
            }
        }
        connection = Proton.connection();
        collector = Proton.collector();
        connection.collect(collector);
        connection.setHostname("localhost");
        connection.setContainer("test-" + UUID.randomUUID());
        transport.bind(connection);
        connection.open();
        session = connection.session();
        session.open();
    }

    /** Moves bytes both ways until {@code done} holds or the transport closes; false on timeout. */
    boolean pumpUntil(BooleanSupplier done) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        byte[] buffer = new byte[65536];
        while (System.currentTimeMillis() < deadline) {
            while (collector.peek() != null) {
                collector.pop();
            }
            int pending = transport.pending();
            if (pending > 0) {
                ByteBuffer head = transport.head();
                byte[] bytes = new byte[head.remaining()];
                head.get(bytes);
                transport.pop(bytes.length);
                out.write(bytes);
                out.flush();
            }
            if (done.getAsBoolean()) {
                return true;
            }
            if (pending < 0) {
                return false;
            }
            try {
                int n = in.read(buffer);
                if (n < 0) {
                    transport.close_tail();
                    return done.getAsBoolean();
                }
                int offset = 0;
                while (offset < n) {
                    int capacity = transport.capacity();
                    if (capacity <= 0) {
                        return done.getAsBoolean();
                    }
                    int chunk = Math.min(capacity, n - offset);
                    transport.tail().put(buffer, offset, chunk);
                    transport.process();
                    offset += chunk;
                }
            } catch (SocketTimeoutException idle) {
                // nothing to read this round
            }
        }
        return false;
    }

    boolean awaitOpen() throws Exception {
        return pumpUntil(() -> connection.getRemoteState() == EndpointState.ACTIVE);
    }

    /** True once the connection failed or closed (e.g. a refused SASL login). */
    boolean awaitClosed() throws Exception {
        return pumpUntil(() -> transport.pending() < 0 || connection.getRemoteState() == EndpointState.CLOSED
                || socket.isClosed());
    }

    /**
     * True once the hub has closed the socket (end of stream or reset), whatever the client's engine thinks of the
     * connection; false if it is still open after {@code millis}.
     */
    boolean awaitEndOfStream(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        byte[] buffer = new byte[65536];
        while (System.currentTimeMillis() < deadline) {
            try {
                if (in.read(buffer) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException idle) {
                // still open
            } catch (IOException reset) {
                return true;
            }
        }
        return false;
    }

    /** Puts a token on $cbs; answers the status-code of the reply. */
    int putToken(String audience, String token) throws Exception {
        if (cbsSender == null) {
            cbsSender = session.sender("cbs-sender");
            Target target = new Target();
            target.setAddress("$cbs");
            cbsSender.setTarget(target);
            cbsSender.setSource(new Source());
            cbsSender.open();
            cbsReceiver = session.receiver("cbs-receiver");
            Source source = new Source();
            source.setAddress("$cbs");
            cbsReceiver.setSource(source);
            Target local = new Target();
            local.setAddress("cbs");
            cbsReceiver.setTarget(local);
            cbsReceiver.open();
            cbsReceiver.flow(10);
        }
        Message request = Message.Factory.create();
        Properties properties = new Properties();
        String id = UUID.randomUUID().toString();
        properties.setMessageId(id);
        properties.setReplyTo("cbs");
        request.setProperties(properties);
        request.setApplicationProperties(new ApplicationProperties(Map.of("operation", "put-token",
                "type", "azure-devices.net:sastoken", "name", audience)));
        request.setBody(new AmqpValue(token));
        send(cbsSender, request);
        Message reply = receive(cbsReceiver, true);
        if (reply == null) {
            throw new AssertionError("no CBS reply");
        }
        if (!id.equals(String.valueOf(reply.getCorrelationId()))) {
            throw new AssertionError("CBS reply correlates to " + reply.getCorrelationId());
        }
        lastStatusDescription = String.valueOf(reply.getApplicationProperties().getValue()
                .get("status-description"));
        return ((Number) reply.getApplicationProperties().getValue().get("status-code")).intValue();
    }

    Sender openSender(String address) throws Exception {
        return openSender(address, null);
    }

    /** A sending link with attach properties, as the SDKs set {@code com.microsoft:channel-correlation-id}. */
    Sender openSender(String address, Map<Symbol, Object> properties) throws Exception {
        Sender sender = session.sender("s-" + UUID.randomUUID());
        sender.setProperties(properties);
        Target target = new Target();
        target.setAddress(address);
        sender.setTarget(target);
        sender.setSource(new Source());
        sender.open();
        pumpUntil(() -> sender.getRemoteState() != EndpointState.UNINITIALIZED);
        return sender;
    }

    Receiver openReceiver(String address, int credit) throws Exception {
        return openReceiver(address, credit, null);
    }

    Receiver openReceiver(String address, int credit, Map<Symbol, Object> properties) throws Exception {
        Receiver receiver = session.receiver("r-" + UUID.randomUUID());
        receiver.setProperties(properties);
        Source source = new Source();
        source.setAddress(address);
        receiver.setSource(source);
        receiver.setTarget(new Target());
        receiver.open();
        receiver.flow(credit);
        pumpUntil(() -> receiver.getRemoteState() != EndpointState.UNINITIALIZED);
        return receiver;
    }

    /** The condition a refused or cut link was detached with, once it is. */
    ErrorCondition awaitDetach(Link link) throws Exception {
        pumpUntil(() -> link.getRemoteState() == EndpointState.CLOSED);
        return link.getRemoteState() == EndpointState.CLOSED ? link.getRemoteCondition() : null;
    }

    /** Sends and waits for the hub's outcome. */
    DeliveryState send(Sender sender, Message message) throws Exception {
        byte[] buffer = new byte[1024 * 1024];
        int n = message.encode(buffer, 0, buffer.length);
        Delivery delivery = sender.delivery(Long.toString(tags++).getBytes());
        sender.send(buffer, 0, n);
        sender.advance();
        pumpUntil(() -> delivery.getRemoteState() != null || sender.getRemoteState() == EndpointState.CLOSED);
        DeliveryState state = delivery.getRemoteState();
        delivery.settle();
        return state;
    }

    /** The next message on a receiver, its delivery kept unsettled in {@link #lastDelivery} unless settled here. */
    Message receive(Receiver receiver, boolean settle) throws Exception {
        Delivery[] found = new Delivery[1];
        pumpUntil(() -> {
            Delivery d = receiver.current();
            if (d != null && d.isReadable() && !d.isPartial()) {
                found[0] = d;
                return true;
            }
            return false;
        });
        if (found[0] == null) {
            return null;
        }
        Delivery d = found[0];
        byte[] bytes = new byte[d.pending()];
        receiver.recv(bytes, 0, bytes.length);
        receiver.advance();
        Message message = Message.Factory.create();
        message.decode(bytes, 0, bytes.length);
        if (settle) {
            d.disposition(org.apache.qpid.proton.amqp.messaging.Accepted.getInstance());
            d.settle();
        }
        lastDelivery = d;
        return message;
    }

    Delivery lastDelivery;

    /** Settles a received delivery with an outcome and lets the hub see it. */
    void settle(Delivery delivery, DeliveryState outcome) throws Exception {
        delivery.disposition(outcome);
        delivery.settle();
        pumpUntil(() -> transport.pending() == 0);
    }

    static Message message(String body) {
        Message m = Message.Factory.create();
        m.setBody(new org.apache.qpid.proton.amqp.messaging.Data(new Binary(body.getBytes())));
        return m;
    }

    @Override
    public void close() {
        try {
            connection.close();
            pumpUntil(() -> transport.pending() == 0);
        } catch (Exception ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
