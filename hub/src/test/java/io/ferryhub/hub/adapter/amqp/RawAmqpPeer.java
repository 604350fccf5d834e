package io.ferryhub.hub.adapter.amqp;

import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedInteger;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.security.SaslInit;
import org.apache.qpid.proton.amqp.transport.Attach;
import org.apache.qpid.proton.amqp.transport.Begin;
import org.apache.qpid.proton.amqp.transport.Open;
import org.apache.qpid.proton.amqp.transport.Role;
import org.apache.qpid.proton.codec.AMQPDefinedTypes;
import org.apache.qpid.proton.codec.DecoderImpl;
import org.apache.qpid.proton.codec.EncoderImpl;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * An AMQP peer that writes frames itself (encoded with Proton-J's codec) instead of running an engine: it can send
 * what no well-behaved client would, as fast as the socket takes it, and keeps no state per link on its side. A
 * reader thread decodes what the hub answers. Over real TLS, from a chosen loopback address.
 */
final class RawAmqpPeer implements AutoCloseable {
    static final byte[] SASL_HEADER = {'A', 'M', 'Q', 'P', 3, 1, 0, 0};
    static final byte[] AMQP_HEADER = {'A', 'M', 'Q', 'P', 0, 1, 0, 0};

    /** A performative the hub sent, with its channel. */
    record Frame(int channel, Object performative) {
    }

    private final SSLSocket socket;
    private final OutputStream out;
    private final EncoderImpl encoder;
    private final List<Frame> received = new CopyOnWriteArrayList<>();
    private volatile boolean endOfStream;
    /** How the stream ended: end of stream, a reset, or a frame this peer could not decode. */
    volatile Exception ending;

    RawAmqpPeer(SSLContext tls, int port, InetAddress local) throws IOException {
        socket = (SSLSocket) tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port,
                local == null ? InetAddress.getLoopbackAddress() : local, 0);
        socket.startHandshake();
        out = socket.getOutputStream();
        DecoderImpl decoder = new DecoderImpl();
        encoder = new EncoderImpl(decoder);
        AMQPDefinedTypes.registerAllTypes(decoder, encoder);
        Thread reader = new Thread(() -> readLoop(decoder), "raw-amqp-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private void readLoop(DecoderImpl decoder) {
        try {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            while (true) {
                byte[] head = new byte[4];
                in.readFully(head);
                if (new String(head, StandardCharsets.US_ASCII).equals("AMQP")) {
                    in.readFully(new byte[4]); // the rest of a protocol header
                    continue;
                }
                int size = ByteBuffer.wrap(head).getInt();
                byte[] rest = new byte[size - 4];
                in.readFully(rest);
                int dataOffset = (rest[0] & 0xff) * 4 - 4;
                int channel = ((rest[2] & 0xff) << 8) | (rest[3] & 0xff);
                if (rest.length > dataOffset) {
                    decoder.setByteBuffer(ByteBuffer.wrap(rest, dataOffset, rest.length - dataOffset));
                    received.add(new Frame(channel, decoder.readObject()));
                }
            }
        } catch (IOException | RuntimeException closed) {
            ending = closed;
            endOfStream = true;
        }
    }

    /** One frame: {@code type} 0 for AMQP, 1 for SASL. */
    byte[] frame(int type, int channel, Object performative) {
        ByteBuffer body = ByteBuffer.allocate(4096);
        encoder.setByteBuffer(body);
        encoder.writeObject(performative);
        body.flip();
        ByteBuffer frame = ByteBuffer.allocate(8 + body.remaining());
        frame.putInt(8 + body.remaining()).put((byte) 2).put((byte) type).putShort((short) channel).put(body);
        return frame.array();
    }

    /** SASL ANONYMOUS, then the AMQP header and OPEN, in one write: the connection then has no identity. */
    void openAnonymously() throws IOException {
        open(null, null);
    }

    /** SASL PLAIN with a user name and a SAS token (null: ANONYMOUS), then the AMQP header and OPEN. */
    void open(String user, String password) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(SASL_HEADER);
        SaslInit init = new SaslInit();
        init.setMechanism(Symbol.valueOf(user == null ? "ANONYMOUS" : "PLAIN"));
        if (user != null) {
            init.setInitialResponse(new org.apache.qpid.proton.amqp.Binary(("\0" + user + "\0" + password)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        bytes.writeBytes(frame(1, 0, init));
        if (user != null) { // the hub answers a PLAIN login only after checking it: wait for its outcome
            write(bytes.toByteArray());
            bytes.reset();
            try {
                if (await(org.apache.qpid.proton.amqp.security.SaslOutcome.class, 20_000) == null) {
                    throw new IOException("no SASL outcome: " + received);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        bytes.writeBytes(AMQP_HEADER);
        Open open = new Open();
        open.setContainerId("raw-peer");
        open.setHostname("localhost");
        bytes.writeBytes(frame(0, 0, open));
        write(bytes.toByteArray());
    }

    byte[] begin(int channel) {
        Begin begin = new Begin();
        begin.setNextOutgoingId(UnsignedInteger.ZERO);
        begin.setIncomingWindow(UnsignedInteger.valueOf(1000));
        begin.setOutgoingWindow(UnsignedInteger.valueOf(1000));
        return frame(0, channel, begin);
    }

    /** An attach of a receiving link (the hub sends) from {@code address}, e.g. {@code $cbs}. */
    byte[] attach(int channel, int handle, String address) {
        Attach attach = new Attach();
        attach.setName("flood-" + channel + "-" + handle);
        attach.setHandle(UnsignedInteger.valueOf(handle));
        attach.setRole(Role.RECEIVER);
        Source source = new Source();
        source.setAddress(address);
        attach.setSource(source);
        attach.setTarget(new Target());
        return frame(0, channel, attach);
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Writes as much of {@code bytes} as the hub takes; false once the hub has closed the connection. */
    boolean tryWrite(byte[] bytes) {
        try {
            for (int offset = 0; offset < bytes.length; offset += 16 * 1024) {
                out.write(bytes, offset, Math.min(16 * 1024, bytes.length - offset));
            }
            out.flush();
            return true;
        } catch (IOException closed) {
            return false;
        }
    }

    /** The first performative of {@code type} the hub sent, waiting up to {@code millis}; null if none came. */
    <T> T await(Class<T> type, long millis) throws InterruptedException {
        return type.cast(awaitFrame(f -> type.isInstance(f.performative()), millis)
                .map(Frame::performative).orElse(null));
    }

    java.util.Optional<Frame> awaitFrame(Predicate<Frame> match, long millis) throws InterruptedException {
        // stops at the end of the stream too, with one last look: the frame may have come with it
        io.ferryhub.testsupport.Await.within(java.time.Duration.ofMillis(millis),
                () -> endOfStream || received.stream().anyMatch(match));
        return received.stream().filter(match).findFirst();
    }

    /** True once the hub closed the socket, within {@code millis}. */
    boolean awaitEndOfStream(long millis) throws InterruptedException {
        return io.ferryhub.testsupport.Await.within(java.time.Duration.ofMillis(millis), () -> endOfStream);
    }

    List<Frame> received() {
        return received;
    }

    long count(Class<?> type) {
        return received.stream().filter(f -> type.isInstance(f.performative())).count();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
