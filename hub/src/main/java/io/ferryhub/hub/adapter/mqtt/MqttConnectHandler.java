package io.ferryhub.hub.adapter.mqtt;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.adapter.TlsClientCertificates;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.sessions.PersistentSessions;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttIdentifierRejectedException;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttUnacceptableProtocolVersionException;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The first state of an MQTT connection: waits for CONNECT, checks the claimed identity and its credentials (off
 * the event loop), answers CONNACK, and on success replaces itself with the connection's {@link MqttSession}.
 * Packets a client pipelines behind its CONNECT are held until the session takes over.
 */
final class MqttConnectHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(MqttConnectHandler.class);
    private static final int MQTT_3_1_1 = 4;
    /** IoT Hub closes idle connections after 29.45 minutes whatever the keep-alive asks for. */
    private static final int MAX_IDLE_SECONDS = 1767;

    private final MqttDeviceEndpoint endpoint;
    private final String transport;
    private final Queue<Object> heldBack = new ArrayDeque<>();
    private boolean connectSeen;

    MqttConnectHandler(MqttDeviceEndpoint endpoint, String transport) {
        this.endpoint = endpoint;
        this.transport = transport;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connectSeen) {
            heldBack.add(msg); // released after replay or on close
            return;
        }
        try {
            if (!(msg instanceof MqttMessage message)) {
                log.warn("{} from {}: unexpected {}; closing", transport, remote(ctx), msg.getClass().getSimpleName());
                ctx.close();
                return;
            }
            if (message.decoderResult().isFailure()) {
                refuseUndecodable(ctx, message.decoderResult().cause());
                return;
            }
            if (message.fixedHeader().messageType() != MqttMessageType.CONNECT) {
                log.warn("{} from {} sent {} before CONNECT; closing", transport, remote(ctx),
                        message.fixedHeader().messageType());
                ctx.close();
                return;
            }
            connectSeen = true;
            onConnect(ctx, (MqttConnectMessage) message);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void refuseUndecodable(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof MqttUnacceptableProtocolVersionException) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION, "?",
                    "it does not speak MQTT 3.1.1");
        } else if (cause instanceof MqttIdentifierRejectedException) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED, "?",
                    "its client id is not acceptable");
        } else {
            log.warn("{} from {}: undecodable first packet ({}); closing", transport, remote(ctx), cause.toString());
            ctx.close();
        }
    }

    private void onConnect(ChannelHandlerContext ctx, MqttConnectMessage connect) {
        String clientId = connect.payload().clientIdentifier();
        if (connect.variableHeader().version() != MQTT_3_1_1) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_UNACCEPTABLE_PROTOCOL_VERSION, clientId,
                    "protocol level " + connect.variableHeader().version() + " is not MQTT 3.1.1");
            return;
        }
        ClientIdentity claimed = ClientIdentity.parseClientId(clientId).orElse(null);
        if (claimed == null) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_IDENTIFIER_REJECTED, clientId,
                    "client id is neither {deviceId} nor {deviceId}/{moduleId} with valid ids");
            return;
        }
        String userName = connect.variableHeader().hasUserName() ? connect.payload().userName() : null;
        if (!claimed.matchesUserName(userName)) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, clientId,
                    userName == null ? "no user name" : "user name is not {host}/" + clientId + "/?api-version=...");
            return;
        }
        String sasToken = connect.variableHeader().hasPassword()
                ? new String(connect.payload().passwordInBytes(), StandardCharsets.UTF_8) : null;
        X509Certificate[] certificates = sasToken == null ? TlsClientCertificates.of(ctx.channel()) : null;
        if (sasToken == null && certificates == null) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD, clientId,
                    "neither a SAS token password nor a TLS client certificate");
            return;
        }
        WillMessage will = null;
        if (connect.variableHeader().isWillFlag()) {
            will = new WillMessage(connect.payload().willTopic(), connect.payload().willMessageInBytes());
        }
        int keepAlive = connect.variableHeader().keepAliveTimeSeconds();
        boolean cleanSession = connect.variableHeader().isCleanSession();
        ctx.channel().config().setAutoRead(false);
        WillMessage acceptedWill = will;
        try {
            endpoint.blockingExecutor().execute(() -> {
                AuthenticatedDevice device = null;
                Throwable failure = null;
                try {
                    device = endpoint.authenticator().authenticate(claimed.deviceId(), claimed.moduleId(), sasToken,
                            certificates, AuthenticationGuard.addressOf(ctx.channel().remoteAddress()));
                } catch (Throwable t) {
                    failure = t;
                }
                AuthenticatedDevice authenticated = device;
                Throwable error = failure;
                ctx.executor().execute(() -> afterAuthentication(ctx, claimed, authenticated, error, acceptedWill,
                        keepAlive, cleanSession));
            });
        } catch (RejectedExecutionException e) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, clientId, "the hub is stopping");
        }
    }

    private void afterAuthentication(ChannelHandlerContext ctx, ClientIdentity claimed, AuthenticatedDevice device,
                                     Throwable failure, WillMessage will, int keepAlive, boolean cleanSession) {
        String clientId = claimed.clientId();
        if (!ctx.channel().isActive()) {
            releaseHeldBack();
            return;
        }
        if (failure != null) {
            if (failure instanceof HubException hub && hub.errorCode() == HubErrorCode.IotHubUnauthorizedAccess) {
                refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, clientId,
                        AuthenticationRefused.reasonOf(failure));
            } else if (failure instanceof HubException hub && hub.errorCode() == HubErrorCode.ThrottlingException) {
                // IoT Hub's answer to a connect over the hub's rate; the SDKs retry it with back-off
                refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, clientId, hub.getMessage());
            } else {
                log.error("{} {} from {}: credential check failed", transport, clientId, remote(ctx), failure);
                refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, clientId,
                        "the credential check failed");
            }
            return;
        }
        MqttSession session = new MqttSession(ctx.channel(), device, transport, endpoint, will);
        if (will != null && !session.acceptsWill()) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED, clientId,
                    "its Will topic '" + will.topic() + "' is not its own telemetry topic");
            return;
        }
        try {
            endpoint.blockingExecutor().execute(() -> {
                CompletableFuture<PersistentSessions.Session> opened;
                try {
                    opened = endpoint.sessions().open(device, cleanSession);
                } catch (RuntimeException e) {
                    opened = CompletableFuture.failedFuture(e);
                }
                opened.whenComplete((stored, error) -> ctx.executor().execute(() ->
                        afterSessionOpened(ctx, session, stored, error, keepAlive)));
            });
        } catch (RejectedExecutionException e) {
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, clientId, "the hub is stopping");
        }
    }

    private void afterSessionOpened(ChannelHandlerContext ctx, MqttSession session,
                                    PersistentSessions.Session stored, Throwable failure, int keepAlive) {
        String clientId = session.identity().clientId();
        if (!ctx.channel().isActive()) {
            if (stored != null) {
                stored.close();
            }
            releaseHeldBack();
            return;
        }
        if (failure != null) {
            log.error("{} {} from {}: its session could not be opened", transport, clientId, remote(ctx), failure);
            refuse(ctx, MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE, clientId,
                    "the session could not be stored");
            return;
        }
        long idleMillis = keepAlive == 0 ? MAX_IDLE_SECONDS * 1000L
                : Math.min(MAX_IDLE_SECONDS * 1000L, keepAlive * 1500L);
        ctx.pipeline().replace(MqttDeviceEndpoint.IDLE_HANDLER, MqttDeviceEndpoint.IDLE_HANDLER,
                new IdleStateHandler(idleMillis, 0, 0, TimeUnit.MILLISECONDS));
        ctx.pipeline().replace(this, MqttDeviceEndpoint.SESSION_HANDLER, session);
        AuthenticationGuard.authenticated(ctx.channel());
        // the device is online before it can know it: a back-end it signals after CONNACK must find it connected.
        // Anything the hub sends it meanwhile is queued on this event loop, so it follows the CONNACK.
        session.start(stored);
        MqttConnAckMessage connAck = MqttMessageBuilders.connAck()
                .returnCode(MqttConnectReturnCode.CONNECTION_ACCEPTED).sessionPresent(stored.present()).build();
        ctx.writeAndFlush(connAck);
        log.info("{} {} connected from {} ({}, keep-alive {} s{})", transport, clientId, remote(ctx),
                session.identity().authMethod(), keepAlive, stored.present() ? ", session resumed" : "");
        // fired from the handler in front of the session, so that the session reads them next
        ChannelHandlerContext beforeSession = ctx.pipeline().context(MqttDeviceEndpoint.IDLE_HANDLER);
        Object held;
        while ((held = heldBack.poll()) != null) {
            beforeSession.fireChannelRead(held);
        }
        ctx.channel().config().setAutoRead(true);
    }

    private void refuse(ChannelHandlerContext ctx, MqttConnectReturnCode code, String clientId, String reason) {
        log.warn("{} connection refused ({}) for client id '{}' from {}: {}", transport, code, clientId, remote(ctx),
                reason);
        releaseHeldBack();
        MqttConnAckMessage connAck = MqttMessageBuilders.connAck().returnCode(code).sessionPresent(false).build();
        ctx.writeAndFlush(connAck).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeldBack();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.info("{} from {} failed before CONNECT completed: {}", transport, remote(ctx), cause.toString());
        ctx.close();
    }

    private void releaseHeldBack() {
        Object held;
        while ((held = heldBack.poll()) != null) {
            ReferenceCountUtil.release(held);
        }
    }

    static String remote(ChannelHandlerContext ctx) {
        return String.valueOf(ctx.channel().remoteAddress());
    }
}
