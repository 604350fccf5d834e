package io.ferryhub.client.mqtt;

import io.ferryhub.common.sas.ConnectionString;
import io.ferryhub.client.net.HttpConnectProxy;
import io.ferryhub.common.websocket.WebSocketBinaryStream;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttFixedHeader;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubAckMessage;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A device's MQTT connection to the hub, made with Netty's MQTT codec, for device streams: connects with a SAS
 * token from the device connection string (or, for an {@code x509=true} identity, with the client certificate of
 * the endpoint's TLS context and no password) over TLS or, on the HTTPS port, over WebSockets, subscribes to stream requests, hands each request to a listener and
 * publishes its answer. Keeps the connection alive with PINGREQ, renews the token by reconnecting before it
 * expires, and reconnects after any loss with jittered exponential backoff until closed.
 */
public final class DeviceMqttClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeviceMqttClient.class);
    private static final String API_VERSION = "2021-04-12";
    private static final String[] FILTERS = {"$iothub/streams/POST/#", "$iothub/streams/res/#"};
    private static final int MAX_PACKET = 256 * 1024;
    /** The SDKs' default ceiling too: short enough that devices are back soon after a hub restart. */
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final String WEBSOCKET_SUBPROTOCOL = "mqtt";
    /** After falling back to WebSockets, how long before a reconnect tries the MQTT port again. */
    private static final Duration MQTT_RETRY_AFTER_FALLBACK = Duration.ofMinutes(10);

    /** Called on the connection's event loop; must not block. */
    public interface StreamRequestListener {
        void onStreamRequest(IncomingStreamRequest request);
    }

    private final ConnectionString device;
    private final HubEndpoint endpoint;
    private final EventLoopGroup group;
    private final StreamRequestListener listener;
    private final Duration keepAlive;
    private final Duration tokenLifetime;
    private final CompletableFuture<Void> firstSubscribed = new CompletableFuture<>();
    private volatile Channel channel;
    private volatile boolean subscribed;
    private volatile boolean closed;
    /** Set by one connection attempt at a time: the transport of the next attempt, failures since the last success. */
    private volatile MqttTransport transport;
    private volatile int failures;
    /** With the auto transport: when it last fell back from the MQTT port to WebSockets ({@link System#nanoTime}). */
    private volatile long fellBackAt;

    public DeviceMqttClient(ConnectionString device, HubEndpoint endpoint, EventLoopGroup group,
                            StreamRequestListener listener, Duration keepAlive, Duration tokenLifetime) {
        if (!device.isDevice()) {
            throw new IllegalArgumentException("a device connection string is needed (it has no DeviceId)");
        }
        this.device = device;
        this.endpoint = endpoint;
        this.group = group;
        this.listener = listener;
        this.keepAlive = keepAlive;
        this.tokenLifetime = tokenLifetime;
        this.transport = endpoint.transport() == MqttTransport.MQTT_WS ? MqttTransport.MQTT_WS : MqttTransport.MQTT;
    }

    public DeviceMqttClient(ConnectionString device, HubEndpoint endpoint, EventLoopGroup group,
                            StreamRequestListener listener) {
        this(device, endpoint, group, listener, Duration.ofSeconds(60), Duration.ofHours(1));
    }

    /** Starts connecting; the future completes the first time the device is subscribed to stream requests. */
    public CompletableFuture<Void> start() {
        connect();
        return firstSubscribed;
    }

    /** Whether the device is connected and subscribed right now. */
    public boolean isSubscribed() {
        return subscribed;
    }

    private String clientId() {
        return device.deviceId().orElseThrow() + device.moduleId().map(m -> "/" + m).orElse("");
    }

    private void connect() {
        if (closed) {
            return;
        }
        if (endpoint.transport() == MqttTransport.AUTO && this.transport == MqttTransport.MQTT_WS
                && System.nanoTime() - fellBackAt >= MQTT_RETRY_AFTER_FALLBACK.toNanos()) {
            // WebSockets is what worked last, but the MQTT port may have been opened since: try it now and then
            this.transport = MqttTransport.MQTT;
        }
        MqttTransport transport = this.transport;
        int port = endpoint.port(transport);
        Attempt attempt = new Attempt(transport);
        Bootstrap bootstrap = new Bootstrap().group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true);
        HttpConnectProxy proxy = endpoint.proxy();
        bootstrap.handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ChannelPipeline pipeline = ch.pipeline();
                        if (proxy != null) {
                            pipeline.addLast("proxy", proxy.newHandler());
                        }
                        pipeline.addLast("tls", endpoint.tls().newHandler(ch.alloc(), endpoint.host(), port));
                        if (transport == MqttTransport.MQTT_WS) {
                            addWebSocketHandlers(pipeline);
                        }
                        pipeline.addLast("mqtt-decoder", new MqttDecoder(MAX_PACKET));
                        pipeline.addLast("mqtt-encoder", MqttEncoder.INSTANCE);
                        pipeline.addLast("keep-alive", new IdleStateHandler(keepAlive.toMillis() * 3 / 2,
                                keepAlive.toMillis(), 0, TimeUnit.MILLISECONDS));
                        pipeline.addLast("session", new Session(attempt));
                    }
                });
        ChannelFuture reached = HttpConnectProxy.connect(bootstrap, proxy, endpoint.host(), port);
        attempt.reached = reached;
        if (endpoint.transport() == MqttTransport.AUTO && transport == MqttTransport.MQTT) {
            // A firewall that drops packets to the MQTT port would hold this attempt for the whole connect (or
            // proxy) timeout; the HTTPS port is tried as soon as the MQTT port is taking longer than it should.
            ScheduledFuture<?> deadline = reached.channel().eventLoop().schedule(() -> {
                if (!reached.isDone()) {
                    attempt.gaveUp = true;
                    reached.channel().close();
                }
            }, endpoint.autoFallbackAfter().toMillis(), TimeUnit.MILLISECONDS);
            reached.addListener(f -> deadline.cancel(false));
        }
        reached.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                String where = describe(transport);
                if (endpoint.transport() == MqttTransport.AUTO) {
                    this.transport = transport == MqttTransport.MQTT ? MqttTransport.MQTT_WS : MqttTransport.MQTT;
                    if (this.transport == MqttTransport.MQTT_WS) {
                        fellBackAt = System.nanoTime();
                    }
                    where += "; trying " + describe(this.transport) + " next";
                }
                attempt.retry("cannot reach the hub over " + where + ": " + (attempt.gaveUp
                        ? "not reached within " + endpoint.autoFallbackAfter().toMillis() + " ms"
                        : f.cause().getMessage()));
            }
        });
    }

    /**
     * One connection attempt. Its end schedules exactly one next attempt, whichever way it ends first: the
     * connection (or the proxy's tunnel) could not be made, or the connection closed later.
     */
    private final class Attempt {
        final MqttTransport transport;
        /** Completes once the hub's port is reached (through the proxy, when there is one). */
        volatile ChannelFuture reached;
        /** The auto transport stopped waiting for the MQTT port. */
        volatile boolean gaveUp;
        private final AtomicBoolean over = new AtomicBoolean();

        Attempt(MqttTransport transport) {
            this.transport = transport;
        }

        boolean wasReached() {
            ChannelFuture f = reached;
            return f != null && f.isSuccess();
        }

        void retry(String why) {
            if (over.compareAndSet(false, true)) {
                retryLater(why);
            }
        }
    }

    /** MQTT in WebSocket binary frames: the upgrade to sub-protocol {@code mqtt}, then frames to bytes and back. */
    private void addWebSocketHandlers(ChannelPipeline pipeline) {
        WebSocketClientProtocolConfig config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(endpoint.webSocketUri())
                .version(WebSocketVersion.V13)
                .subprotocol(WEBSOCKET_SUBPROTOCOL)
                .maxFramePayloadLength(MAX_PACKET)
                .handshakeTimeoutMillis(10_000)
                .dropPongFrames(true)
                .handleCloseFrames(true)
                .build();
        pipeline.addLast("http", new HttpClientCodec());
        pipeline.addLast("http-aggregator", new HttpObjectAggregator(16 * 1024));
        pipeline.addLast("websocket", new WebSocketClientProtocolHandler(config));
        pipeline.addLast("websocket-bytes", new WebSocketBinaryStream());
    }

    private String describe(MqttTransport transport) {
        return transport == MqttTransport.MQTT_WS
                ? "MQTT over WebSockets (" + endpoint.webSocketUri() + ")"
                : "MQTT (" + endpoint.host() + ":" + endpoint.mqttPort() + ")";
    }

    /**
     * Schedules the next attempt, with jittered exponential backoff. Only the first failure of a series is logged
     * at INFO (a fleet's proxies would otherwise fill their logs while a hub is down); the rest go to DEBUG.
     */
    private void retryLater(String why) {
        if (closed) {
            return;
        }
        long ceiling = Math.min(MAX_BACKOFF.toMillis(), 500L << Math.min(failures, 10));
        failures++;
        // Jitter spreads a fleet's reconnects after a hub restart.
        long delay = ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
        if (failures == 1) {
            log.info("{}; reconnecting with backoff (up to {} s between attempts)", why, MAX_BACKOFF.toSeconds());
        } else {
            log.debug("attempt {}: {}; next in {} ms", failures, why, delay);
        }
        group.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /**
     * Answers a stream request: accept (200) or reject (400). Safe from any thread. False when the answer could not
     * be sent because the hub connection is down (the hub then times the request out).
     */
    public boolean respond(IncomingStreamRequest request, boolean accept) {
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            log.warn("cannot answer {}: not connected to the hub", request);
            return false;
        }
        ch.writeAndFlush(MqttMessageBuilders.publish().topicName(request.responseTopic(accept))
                .qos(MqttQoS.AT_MOST_ONCE).retained(false).payload(Unpooled.EMPTY_BUFFER).build());
        return true;
    }

    @Override
    public void close() {
        closed = true;
        Channel ch = channel;
        if (ch != null) {
            ch.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.DISCONNECT, false,
                    MqttQoS.AT_MOST_ONCE, false, 0))).addListener(ChannelFutureListener.CLOSE);
            ch.closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        firstSubscribed.completeExceptionally(new IllegalStateException("closed"));
    }

    /** One connection's protocol: CONNECT, SUBSCRIBE, then requests in and answers out. */
    private final class Session extends SimpleChannelInboundHandler<MqttMessage> {
        private final Attempt attempt;
        private final MqttTransport transport;

        Session(Attempt attempt) {
            this.attempt = attempt;
            this.transport = attempt.transport;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (transport == MqttTransport.MQTT) {
                sendConnect(ctx);
            }
            ctx.fireChannelActive();
        }

        /** MQTT starts once the transport carries bytes: at once over TLS, after the upgrade over WebSockets. */
        private void sendConnect(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            String userName = device.hostName() + "/" + clientId() + "/?api-version=" + API_VERSION;
            MqttMessageBuilders.ConnectBuilder connect = MqttMessageBuilders.connect()
                    .protocolVersion(MqttVersion.MQTT_3_1_1)
                    .clientId(clientId())
                    .cleanSession(true)
                    .keepAlive((int) keepAlive.toSeconds())
                    .username(userName);
            if (!device.isX509()) {
                Instant expiry = Instant.now().plus(tokenLifetime);
                connect.password(device.sasToken(expiry).getBytes(StandardCharsets.UTF_8));
                // Reconnect with a fresh token before this one runs out; streams in flight are not affected.
                ctx.executor().schedule(() -> {
                    log.info("renewing the SAS token: reconnecting");
                    ctx.close();
                }, tokenLifetime.toMillis() * 4 / 5, TimeUnit.MILLISECONDS);
            }
            ctx.writeAndFlush(connect.build());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, MqttMessage message) {
            if (message.decoderResult().isFailure()) {
                log.warn("malformed packet from the hub: {}; reconnecting", message.decoderResult().cause().toString());
                ctx.close();
                return;
            }
            switch (message.fixedHeader().messageType()) {
                case CONNACK -> onConnAck(ctx, (MqttConnAckMessage) message);
                case SUBACK -> onSubAck((MqttSubAckMessage) message);
                case PUBLISH -> onPublish(ctx, (MqttPublishMessage) message);
                case PINGRESP -> {
                }
                default -> log.debug("ignoring {} from the hub", message.fixedHeader().messageType());
            }
        }

        private void onConnAck(ChannelHandlerContext ctx, MqttConnAckMessage ack) {
            MqttConnectReturnCode code = ack.variableHeader().connectReturnCode();
            if (code != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
                log.warn("the hub refused {}: {}", clientId(), code);
                ctx.close();
                return;
            }
            MqttMessageBuilders.SubscribeBuilder subscribe = MqttMessageBuilders.subscribe().messageId(1);
            for (String filter : FILTERS) {
                subscribe.addSubscription(MqttQoS.AT_MOST_ONCE, filter);
            }
            ctx.writeAndFlush(subscribe.build());
        }

        private void onSubAck(MqttSubAckMessage ack) {
            if (ack.payload().grantedQoSLevels().contains(MqttQoS.FAILURE.value())) {
                log.warn("the hub refused the stream request subscription of {}", clientId());
                channel.close();
                return;
            }
            int attempts = failures;
            failures = 0;
            subscribed = true;
            log.info("{} connected over {}{}, waiting for stream requests", clientId(), describe(transport),
                    attempts == 0 ? "" : " (attempt " + (attempts + 1) + ")");
            firstSubscribed.complete(null);
        }

        private void onPublish(ChannelHandlerContext ctx, MqttPublishMessage publish) {
            String topic = publish.variableHeader().topicName();
            if (publish.fixedHeader().qosLevel() == MqttQoS.AT_LEAST_ONCE) {
                ctx.writeAndFlush(MqttMessageBuilders.pubAck().packetId(publish.variableHeader().packetId()).build());
            }
            IncomingStreamRequest.parse(topic).ifPresentOrElse(listener::onStreamRequest,
                    () -> log.warn("ignoring a message on '{}': not a stream request", topic));
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                sendConnect(ctx);
            } else if (evt instanceof IdleStateEvent idle) {
                if (idle.state() == IdleState.WRITER_IDLE) {
                    ctx.writeAndFlush(new MqttMessage(new MqttFixedHeader(MqttMessageType.PINGREQ, false,
                            MqttQoS.AT_MOST_ONCE, false, 0)));
                } else if (idle.state() == IdleState.READER_IDLE) {
                    log.warn("the hub went silent for 1.5 keep-alive periods; reconnecting");
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            boolean wasSubscribed = subscribed;
            subscribed = false;
            if (!closed) {
                attempt.retry(wasSubscribed ? "connection to the hub lost"
                        : "the connection over " + describe(transport) + " ended before the hub accepted it");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (attempt.wasReached()) {
                log.warn("hub connection failed: {}", cause.getMessage());
            }
            ctx.close();
        }
    }
}
