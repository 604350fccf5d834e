package io.ferryhub.bench.mqtt;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Opens many MQTT-over-TLS device connections to one broker, a bounded number of handshakes at a time (a burst of
 * thousands would overflow the listen backlog and measure retries instead), spreading them over several loopback
 * source addresses when one address pair has too few ports.
 */
public final class MqttConnector {
    private static final Logger log = LoggerFactory.getLogger(MqttConnector.class);

    private final Bootstrap bootstrap;
    private final SslContext tls;
    private final String tlsHost;
    private final InetSocketAddress broker;
    private final int concurrentHandshakes;
    private final AtomicInteger lostConnections = new AtomicInteger();
    private volatile boolean closing;

    /**
     * @param tlsHost the name the broker's certificate is checked against
     */
    public MqttConnector(EventLoopGroup group, SslContext tls, String tlsHost, InetSocketAddress broker,
                         int concurrentHandshakes) {
        this.tls = tls;
        this.tlsHost = tlsHost;
        this.broker = broker;
        this.concurrentHandshakes = concurrentHandshakes;
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
    }

    private ChannelInitializer<SocketChannel> pipeline(MqttDeviceHandler device, int keepAliveSeconds) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), tlsHost, broker.getPort()));
                ch.pipeline().addLast("mqttDecoder", new MqttDecoder());
                ch.pipeline().addLast("mqttEncoder", MqttEncoder.INSTANCE);
                if (keepAliveSeconds > 0) {
                    ch.pipeline().addLast("keepAlive", new IdleStateHandler(0, keepAliveSeconds, 0));
                }
                ch.pipeline().addLast("device", device);
            }
        };
    }

    /**
     * Connects devices {@code from} (inclusive) to {@code to} (exclusive) and returns them once all have their
     * CONNACK; fails if any fails.
     *
     * @param credentials       the credentials of device i
     * @param sourceAddresses   local addresses to spread the connections over, round robin
     * @param keepAliveSeconds  the MQTT keep-alive each device announces and honours with PINGREQ
     */
    public List<MqttDevice> connect(int from, int to, IntFunction<DeviceCredentials> credentials,
                                    List<String> sourceAddresses, int keepAliveSeconds, Duration timeout)
            throws IOException, InterruptedException {
        int count = to - from;
        List<MqttDevice> devices = new ArrayList<>(count);
        Semaphore handshakes = new Semaphore(concurrentHandshakes);
        List<CompletableFuture<MqttDeviceHandler>> pending = new ArrayList<>(count);
        long deadline = System.nanoTime() + timeout.toNanos();
        int progressStep = Math.max(1, count / 10);
        for (int i = from; i < to; i++) {
            if (!handshakes.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IOException("connecting " + count + " devices took longer than " + timeout.toSeconds()
                        + " s (" + (i - from) + " started)");
            }
            MqttDeviceHandler handler = new MqttDeviceHandler(credentials.apply(i), i, keepAliveSeconds);
            String source = sourceAddresses.get(i % sourceAddresses.size());
            ChannelFuture connect = bootstrap.clone()
                    .handler(pipeline(handler, keepAliveSeconds))
                    .connect(broker, new InetSocketAddress(source, 0));
            Channel channel = connect.channel();
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    handler.connected().completeExceptionally(f.cause());
                }
            });
            channel.closeFuture().addListener(f -> {
                if (!closing && handler.connected().isDone() && !handler.connected().isCompletedExceptionally()) {
                    lostConnections.incrementAndGet();
                }
            });
            handler.connected().whenComplete((h, e) -> handshakes.release());
            pending.add(handler.connected());
            devices.add(new MqttDevice(channel, handler));
            if ((i - from + 1) % progressStep == 0) {
                log.info("connecting: {} of {} started", i - from + 1, count);
            }
        }
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                    .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("a device could not connect: " + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            long done = pending.stream().filter(CompletableFuture::isDone).count();
            throw new IOException("only " + done + " of " + count + " devices connected within "
                    + timeout.toSeconds() + " s");
        }
        return devices;
    }

    /** Connections that closed after their CONNACK while the benchmark was not closing them. */
    public int lostConnections() {
        return lostConnections.get();
    }

    /** Closes every device connection. */
    public void closeAll(List<MqttDevice> devices) {
        closing = true;
        List<ChannelFuture> closes = new ArrayList<>(devices.size());
        for (MqttDevice device : devices) {
            closes.add(device.channel().close());
        }
        for (ChannelFuture close : closes) {
            close.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** The TLS protocol and cipher suite a connected device negotiated, for the report. */
    public static String negotiatedTls(MqttDevice device) {
        SslHandler ssl = device.channel().pipeline().get(SslHandler.class);
        return ssl == null ? "none" : ssl.engine().getSession().getProtocol() + " "
                + ssl.engine().getSession().getCipherSuite();
    }
}
