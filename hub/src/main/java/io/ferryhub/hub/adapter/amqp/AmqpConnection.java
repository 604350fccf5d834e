package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.adapter.AuthenticationGuard;
import io.ferryhub.hub.adapter.FeedbackBatchJson;
import io.ferryhub.hub.adapter.TlsClientCertificates;
import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.auth.ServiceGrants;
import io.ferryhub.hub.service.auth.ServicePrincipal;
import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.service.c2d.CloudToDeviceService;
import io.ferryhub.hub.service.c2d.DeviceDisposition;
import io.ferryhub.hub.service.c2d.DeviceInbox;
import io.ferryhub.hub.service.connection.DeviceLink;
import io.ferryhub.hub.service.telemetry.TelemetryService;
import io.ferryhub.signaling.StreamRequestSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.UnsignedLong;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Connection;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Event;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sasl;
import org.apache.qpid.proton.engine.SaslListener;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.engine.TransportException;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One AMQP 1.0 connection, driven by Proton-J's engine on the channel's event loop: received bytes go into the
 * Proton {@link Transport}, its output goes back to the channel. Everything Proton owns is touched on the event
 * loop only; authentication and storage run elsewhere and come back with {@code eventLoop.execute}.
 *
 * <p>Authentication as the SDKs do it: a SASL layer with ANONYMOUS (Java SDKs) or PLAIN
 * ({@code {device}@sas.{hub}}, {@code {policy}@sas.root.{hub}}), or no SASL layer at all (Node SDKs); then CBS
 * put-token on {@code $cbs}, one token per device, module or the service, renewable on the live connection. A
 * link attaches only under a live grant of its identity; a grant that expires unrenewed detaches the links it
 * authorised with {@code amqp:unauthorized-access}.
 *
 * <p>What a peer may hold is bounded ({@link AmqpQuota}): sessions and links beyond {@link AmqpLimits} close the
 * connection with {@code amqp:resource-limit-exceeded} (a link beyond the per-connection cap is refused instead),
 * with a much lower bound on links until the connection is authenticated (SASL PLAIN, a first CBS token, or an
 * X.509 identity); a connection not authenticated within the hub's deadline is closed with
 * {@code amqp:unauthorized-access}, and so is one whose SASL login failed, once the outcome is sent.
 */
final class AmqpConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AmqpConnection.class);
    private static final String SERVICE_GRANT = "$service";
    private static final int LINK_CREDIT = 100;
    /** The largest delivery taken: a 256 KB message plus room for its properties and AMQP framing. */
    private static final int MAX_DELIVERY_BYTES = TelemetryService.MAX_MESSAGE_BYTES + 64 * 1024;
    private static final Symbol PUT_TOKEN = Symbol.valueOf("put-token");
    private static final long TICK_SECONDS = 5;
    private static final long FEEDBACK_POLL_MILLIS = 500;

    /** What one CBS token (or a SASL PLAIN login) authorised, until when, and the links it covers. */
    private static final class Grant {
        final String key;
        AuthenticatedDevice device;
        long expiresAtMillis;
        final List<Link> links = new ArrayList<>();
        ScheduledFuture<?> expiryTimer;
        AmqpDeviceLink registered;
        final Map<AmqpAddress.Kind, AmqpDeviceChannel> channels = new EnumMap<>(AmqpAddress.Kind.class);
        /** The service grant's hold on its policy key (see {@link ServiceGrants}); null for a device's grant. */
        Runnable keyHold;

        Grant(String key) {
            this.key = key;
        }
    }

    /** The role a link plays, kept as its Proton context. */
    private record LinkRole(AmqpAddress address, Grant grant, AmqpInbox inbox, AmqpDeviceChannel channel) {
    }

    private final AmqpEndpoint endpoint;
    private final String transportName;
    private final Map<String, Grant> grants = new HashMap<>();
    private final Map<Link, Boolean> feedbackPolling = new HashMap<>();
    private final AmqpQuota quota;
    /** Endpoints both sides closed, freed once the transport has written what closed them. */
    private final List<Object> toFree = new ArrayList<>();
    private ChannelHandlerContext ctx;
    private Transport transport;
    private Connection connection;
    private Collector collector;
    private ScheduledFuture<?> ticker;
    /** The built-in endpoint's links (Event Hubs clients), null when the hub serves none. */
    private EventHubsLinks eventHubs;
    private boolean closed;
    /** The connection is being closed by the hub: input is ignored, the channel closes once output is written. */
    private boolean closing;
    private long deliveryTags;

    AmqpConnection(AmqpEndpoint endpoint, String transportName) {
        this.endpoint = endpoint;
        this.transportName = transportName;
        this.quota = new AmqpQuota(endpoint.limits);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        transport = Transport.Factory.create();
        transport.setMaxFrameSize(64 * 1024);
        transport.setChannelMax(endpoint.limits.maxSessions() - 1);
        Sasl sasl = transport.sasl();
        sasl.server();
        sasl.allowSkip(true); // the Node SDKs open no SASL layer and authenticate on $cbs only
        sasl.setMechanisms("ANONYMOUS", "PLAIN");
        sasl.setListener(new SaslServer());
        connection = Connection.Factory.create();
        collector = Collector.Factory.create();
        connection.collect(collector);
        transport.bind(connection);
        ticker = ctx.executor().scheduleAtFixedRate(this::tick, TICK_SECONDS, TICK_SECONDS, TimeUnit.SECONDS);
        if (endpoint.eventHubs != null) {
            eventHubs = new EventHubsLinks(endpoint.eventHubs, endpoint.serviceGrants, ctx, this::onLoop,
                    this::offLoop, this::nothingAuthorised);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            while (bytes.isReadable() && !closed && !closing) {
                int capacity = transport.capacity();
                if (capacity <= 0) {
                    break;
                }
                ByteBuffer tail = transport.tail();
                int n = Math.min(capacity, bytes.readableBytes());
                tail.limit(tail.position() + n);
                bytes.readBytes(tail);
                transport.process();
                pump();
            }
        } catch (TransportException | IllegalStateException e) {
            log.info("AMQP connection from {} failed: {}", ctx.channel().remoteAddress(), e.getMessage());
            shutdown();
        } catch (StackOverflowError e) {
            // Proton-J answers an attach above handle-max by re-entering its frame parser, which can exhaust the
            // stack; the engine is unusable after that, the event loop is not
            log.info("AMQP connection from {} closed: an attach above handle-max {}", ctx.channel().remoteAddress(),
                    endpoint.limits.maxLinksPerSession() - 1);
            shutdown();
        } finally {
            bytes.release();
        }
    }

    private void tick() {
        if (!closed) {
            transport.tick(System.currentTimeMillis());
            flush();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        for (Grant grant : grants.values()) {
            if (grant.expiryTimer != null) {
                grant.expiryTimer.cancel(false);
            }
            for (Link link : grant.links) {
                releaseLink(link);
            }
            if (grant.registered != null) {
                endpoint.connections.unregister(grant.registered);
            }
            releaseKeyHold(grant);
        }
        grants.clear();
        if (eventHubs != null) {
            eventHubs.close();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && eventHubs != null && !closed) {
            eventHubs.onWritable();
            pump();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("AMQP connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private void shutdown() {
        closed = true;
        ctx.close();
    }

    /**
     * Closes the connection with an error the peer is told in a CLOSE frame, without waiting for its answer: the
     * channel closes as soon as the frame is written, and nothing more the peer sends is processed.
     */
    private void closeConnection(ErrorCondition condition) {
        if (closing) {
            return;
        }
        log.info("AMQP connection from {} closed: {} {}", ctx.channel().remoteAddress(), condition.getCondition(),
                condition.getDescription());
        closing = true;
        if (connection.getLocalState() != EndpointState.CLOSED) {
            connection.setCondition(condition);
            connection.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == AuthenticationGuard.AuthenticationTimeout.INSTANCE && !closed) {
            closeConnection(AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "not authenticated within "
                    + endpoint.guard.timeout().toSeconds() + " s (SASL PLAIN, a $cbs token or an X.509 "
                    + "certificate)"));
            pump();
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The connection has an identity: the higher limits apply and the authentication deadline is lifted. */
    private void authenticated() {
        if (!quota.isAuthenticated()) {
            quota.authenticated();
            AuthenticationGuard.authenticated(ctx.channel());
        }
    }

    /** Handles Proton's events, then writes whatever the transport has to say. */
    private void pump() {
        Event event;
        while ((event = collector.peek()) != null) {
            try {
                handle(event);
            } catch (RuntimeException e) {
                log.error("AMQP event {} from {} failed", event.getType(), ctx.channel().remoteAddress(), e);
            } finally {
                collector.pop();
            }
        }
        flush();
    }

    private void flush() {
        if (closed && !ctx.channel().isActive()) {
            return;
        }
        boolean wrote = false;
        while (true) {
            int pending = transport.pending();
            if (pending < 0) {
                if (wrote) {
                    ctx.flush();
                }
                ctx.close();
                closed = true;
                return;
            }
            if (pending == 0) {
                break;
            }
            ByteBuffer head = transport.head();
            int n = head.remaining();
            ByteBuf out = ctx.alloc().buffer(n);
            out.writeBytes(head);
            transport.pop(n);
            ctx.write(out);
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
        freeClosedEndpoints();
        if (closing && !closed) {
            closed = true;
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * Proton keeps every session and link until it is freed; without this a peer that attaches and detaches links
     * (or whose links the hub refuses) would grow the connection's heap without bound.
     */
    private void freeClosedEndpoints() {
        if (toFree.isEmpty()) {
            return;
        }
        for (Object endpoint : toFree) {
            if (endpoint instanceof Link link && settled(link)) {
                link.free();
            } else if (endpoint instanceof Session session && settled(session)) {
                session.free();
            }
        }
        toFree.clear();
    }

    /**
     * Whether nothing the hub still answers is pending on the link: a delivery settled later (telemetry once it is
     * stored) must still find its link, so such a link stays until the connection ends.
     */
    private static boolean settled(Link link) {
        return link.getUnsettled() == 0;
    }

    private boolean settled(Session session) {
        for (Link link = connection.linkHead(null, null); link != null; link = link.next(null, null)) {
            if (link.getSession() == session && !settled(link)) {
                return false;
            }
        }
        return true;
    }

    /** Runs a task back on this connection's event loop, then pumps. */
    void onLoop(Runnable task) {
        onLoopOrElse(task, () -> {
        });
    }

    /** Like {@link #onLoop}, but runs {@code ifClosed} (on some thread) when the connection is gone. */
    void onLoopOrElse(Runnable task, Runnable ifClosed) {
        try {
            ctx.executor().execute(() -> {
                if (closed) {
                    ifClosed.run();
                } else {
                    task.run();
                    pump();
                }
            });
        } catch (RejectedExecutionException e) {
            ifClosed.run();
        }
    }

    <T> CompletableFuture<T> offLoop(Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            endpoint.blockingExecutor.execute(() -> {
                try {
                    result.complete(work.get());
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new HubException(HubErrorCode.ThrottlingException, "the hub is busy"));
        }
        return result;
    }

    private void handle(Event event) {
        switch (event.getType()) {
            case CONNECTION_REMOTE_OPEN -> {
                connection.setContainer("ferryhub");
                connection.open();
            }
            case CONNECTION_REMOTE_CLOSE -> connection.close();
            case SESSION_REMOTE_OPEN -> {
                Session session = event.getSession();
                AmqpQuota.Breach breach = quota.begin(session);
                if (breach != null) {
                    closeConnection(breach.condition());
                    return;
                }
                if (session.getLocalState() == EndpointState.UNINITIALIZED) {
                    ProtonHandleMax.set(session, endpoint.limits.maxLinksPerSession() - 1);
                    session.open();
                }
            }
            case SESSION_REMOTE_CLOSE -> {
                Session session = event.getSession();
                // Ending a session detaches its links implicitly, and Proton raises no event for them: forget
                // them here, or what they hold (an epoch receiver's partition, a C2D inbox) stays until the
                // connection closes. No detach is sent for them: the END answers for the whole session.
                for (Link link = connection.linkHead(null, null); link != null; link = link.next(null, null)) {
                    if (link.getSession() == session) {
                        forget(link);
                    }
                }
                quota.end(session);
                session.close();
                toFree.add(session); // with its links
            }
            case LINK_REMOTE_OPEN -> {
                Link link = event.getLink();
                if (link == null || link.getLocalState() != EndpointState.UNINITIALIZED) {
                    return; // Proton raises a null link for an attach on a handle in use
                }
                AmqpQuota.Breach breach = quota.attach(link);
                if (breach == null) {
                    attach(link);
                } else if (breach.closesConnection()) {
                    closeConnection(breach.condition());
                } else {
                    refuse(link, breach.condition());
                }
            }
            case LINK_REMOTE_CLOSE, LINK_REMOTE_DETACH -> linkEnded(event.getLink());
            case DELIVERY -> onDelivery(event.getDelivery());
            case LINK_FLOW -> {
                if (eventHubs != null) {
                    eventHubs.onFlow(event.getLink());
                }
                if (event.getLink() instanceof Sender sender && feedbackPolling.containsKey(sender)) {
                    pollFeedback(sender);
                }
            }
            case TRANSPORT_ERROR -> log.info("AMQP connection from {} failed: {}", ctx.channel().remoteAddress(),
                    transport.getCondition() == null ? "transport error" : transport.getCondition().getDescription());
            case TRANSPORT_CLOSED -> shutdown();
            default -> {
            }
        }
    }

    // ---- link attach ------------------------------------------------------------------------------------------

    private void attach(Link link) {
        String address = link instanceof Receiver
                ? (link.getRemoteTarget() instanceof Target t ? t.getAddress() : null)
                : (link.getRemoteSource() instanceof Source s ? s.getAddress() : null);
        if (eventHubs != null && eventHubs.attach(link, address)) {
            return;
        }
        AmqpAddress node = AmqpAddress.parse(address);
        boolean receiving = link instanceof Receiver; // the peer sends on it
        if (node == null || (!eitherWay(node.kind()) && receiving != expectsPeerToSend(node.kind()))) {
            refuse(link, notFound("the hub serves no " + (receiving ? "target" : "source") + " node '" + address
                    + "'"));
            return;
        }
        if (node.kind() == AmqpAddress.Kind.CBS) {
            accept(link, new LinkRole(node, null, null, null));
            return;
        }
        String key = node.deviceId() == null ? SERVICE_GRANT
                : node.moduleId() == null ? node.deviceId() : node.deviceId() + "/" + node.moduleId();
        Grant grant = grants.get(key);
        if (grant == null && node.deviceId() != null && attachOnceCertificateChecked(link, node, key)) {
            return;
        }
        if (grant == null || grant.expiresAtMillis <= System.currentTimeMillis()) {
            refuse(link, AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "no valid token authorises '"
                    + address + "' on this connection (put one on $cbs first)"));
            return;
        }
        if (node.kind() == AmqpAddress.Kind.DEVICE_C2D && node.moduleId() != null) {
            refuse(link, notFound("cloud-to-device messages go to devices only"));
            return;
        }
        if (grant.device != null && grant.registered == null) {
            grant.registered = new AmqpDeviceLink(grant.device);
            endpoint.connections.register(grant.registered);
        }
        AmqpInbox inbox = node.kind() == AmqpAddress.Kind.DEVICE_C2D ? new AmqpInbox(grant.device, (Sender) link)
                : null;
        AmqpDeviceChannel channel = eitherWay(node.kind())
                ? grant.channels.computeIfAbsent(node.kind(), kind -> endpoint.channel(kind, this, grant.device,
                grant.registered))
                : null;
        if (eitherWay(node.kind()) && channel == null) {
            refuse(link, notFound("the hub serves no node '" + address + "'"));
            return;
        }
        LinkRole role = new LinkRole(node, grant, inbox, channel);
        accept(link, role);
        grant.links.add(link);
        if (channel != null) {
            channel.attached(link);
        }
        log.info("AMQP link {} attached for {}", address, key.equals(SERVICE_GRANT) ? "the service" : key);
        switch (node.kind()) {
            case DEVICE_C2D -> endpoint.c2d.attach(inbox);
            case FEEDBACK -> {
                feedbackPolling.put(link, Boolean.FALSE);
                pollFeedback((Sender) link);
            }
            default -> {
            }
        }
    }

    /**
     * X.509 devices put no token (the Java SDK opens no SASL layer and no $cbs link): the TLS client certificate is
     * their credential, checked for the identity of the first link they attach. False when there is none.
     */
    private boolean attachOnceCertificateChecked(Link link, AmqpAddress node, String key) {
        X509Certificate[] chain = TlsClientCertificates.of(ctx.channel());
        if (chain == null) {
            return false;
        }
        offLoop(() -> endpoint.devices.authenticate(node.deviceId(), node.moduleId(), null, chain,
                AuthenticationGuard.addressOf(ctx.channel().remoteAddress())))
                .whenComplete((device, error) -> onLoop(() -> {
                    if (link.getLocalState() != EndpointState.UNINITIALIZED) {
                        return; // the peer gave up on the link meanwhile
                    }
                    if (error != null) {
                        log.info("AMQP certificate of {} for {} refused: {}", ctx.channel().remoteAddress(), node,
                                AuthenticationRefused.reasonOf(error));
                        refuse(link, AmqpErrors.of(error));
                        return;
                    }
                    if (!grants.containsKey(key)) {
                        grant(key, device, expiryMillis(device.credentialExpiry()), null);
                    }
                    attach(link);
                }));
        return true;
    }

    /** Nodes where the peer attaches one link each way (the hub answers on the one what came on the other). */
    private static boolean eitherWay(AmqpAddress.Kind kind) {
        return switch (kind) {
            case CBS, TWIN, METHODS, STREAMS -> true;
            default -> false;
        };
    }

    private static boolean expectsPeerToSend(AmqpAddress.Kind kind) {
        return kind == AmqpAddress.Kind.TELEMETRY || kind == AmqpAddress.Kind.SERVICE_C2D;
    }

    private static ErrorCondition notFound(String description) {
        return new ErrorCondition(AmqpErrors.NOT_FOUND, description);
    }

    private void accept(Link link, LinkRole role) {
        link.setContext(role);
        AmqpLinks.mirror(link);
        if (role.channel() != null) {
            link.setProperties(link.getRemoteProperties()); // echoes com.microsoft:channel-correlation-id
        }
        if (link instanceof Receiver receiver) {
            receiver.setMaxMessageSize(UnsignedLong.valueOf(MAX_DELIVERY_BYTES));
            link.open();
            receiver.flow(LINK_CREDIT);
        } else {
            link.open();
        }
    }

    private void refuse(Link link, ErrorCondition condition) {
        log.info("AMQP link refused on {}: {} {}", ctx.channel().remoteAddress(), condition.getCondition(),
                condition.getDescription());
        AmqpLinks.refuse(link, condition);
    }

    /** The peer detached the link: it is forgotten and detached on our side too. */
    private void linkEnded(Link link) {
        forget(link);
        quota.detach(link);
        if (link.getLocalState() != EndpointState.CLOSED) {
            link.close();
        }
        toFree.add(link);
    }

    /** Lets go of what a link held, whichever side it served. */
    private void forget(Link link) {
        if (eventHubs == null || !eventHubs.release(link)) {
            releaseLink(link);
        }
    }

    private void releaseLink(Link link) {
        if (!(link.getContext() instanceof LinkRole role)) {
            return;
        }
        link.setContext(null);
        feedbackPolling.remove(link);
        if (role.grant() != null) {
            role.grant().links.remove(link);
        }
        if (role.inbox() != null) {
            role.inbox().closed();
            endpoint.c2d.detach(role.inbox());
        }
        if (role.channel() != null && role.channel().detached(link) && role.grant() != null) {
            role.grant().channels.remove(role.address().kind(), role.channel());
        }
    }

    /** Detaches a link the hub no longer serves; the condition, if any, was set by the caller. */
    void closeLink(Link link) {
        releaseLink(link);
        link.close();
    }

    // ---- deliveries -------------------------------------------------------------------------------------------

    private void onDelivery(Delivery delivery) {
        if (eventHubs != null && eventHubs.onDelivery(delivery)) {
            return;
        }
        Link link = delivery.getLink();
        if (link instanceof Sender) {
            onOutcome(delivery);
            return;
        }
        Receiver receiver = (Receiver) link;
        if (!delivery.isReadable() || !(link.getContext() instanceof LinkRole role)) {
            return;
        }
        if (delivery.isPartial()) {
            if (delivery.pending() > MAX_DELIVERY_BYTES) {
                link.setCondition(AmqpErrors.of(HubErrorCode.MessageTooLarge, "message over "
                        + MAX_DELIVERY_BYTES + " bytes"));
                releaseLink(link);
                link.close();
            }
            return;
        }
        byte[] bytes = new byte[delivery.pending()];
        receiver.recv(bytes, 0, bytes.length);
        receiver.advance();
        Message message;
        try {
            message = AmqpMessages.decode(bytes);
        } catch (RuntimeException e) {
            settle(delivery, rejected(AmqpErrors.of(HubErrorCode.IotHubFormatError, "not an AMQP message")));
            topUp(receiver);
            return;
        }
        if (role.channel() != null) {
            role.channel().onMessage(delivery, message);
            topUp(receiver);
            return;
        }
        switch (role.address().kind()) {
            case CBS -> onPutToken(delivery, message);
            case TELEMETRY -> onTelemetry(delivery, role, message);
            case SERVICE_C2D -> onServiceC2d(delivery, message);
            default -> settle(delivery, rejected(notFound("this link takes no messages")));
        }
        topUp(receiver);
    }

    private static void topUp(Receiver receiver) {
        if (receiver.getCredit() < LINK_CREDIT / 2) {
            receiver.flow(LINK_CREDIT - receiver.getCredit());
        }
    }

    static Rejected rejected(ErrorCondition condition) {
        Rejected rejected = new Rejected();
        rejected.setError(condition);
        return rejected;
    }

    static void settle(Delivery delivery, DeliveryState state) {
        if (!delivery.remotelySettled()) {
            delivery.disposition(state);
        }
        delivery.settle();
    }

    private void onTelemetry(Delivery delivery, LinkRole role, Message message) {
        CompletableFuture<?> stored;
        try {
            stored = endpoint.telemetry.send(role.grant().device, AmqpMessages.toDeviceMessage(message),
                    TelemetryService.Source.Telemetry);
        } catch (RuntimeException e) {
            stored = CompletableFuture.failedFuture(e);
        }
        if (role.grant().registered != null) {
            role.grant().registered.reportActivity();
        }
        // the device learns the outcome once the message is durable
        stored.whenComplete((ok, error) -> onLoop(() -> settle(delivery,
                error == null ? Accepted.getInstance() : rejected(AmqpErrors.of(error)))));
    }

    private void onServiceC2d(Delivery delivery, Message message) {
        String to = message.getAddress();
        AmqpAddress target = to == null ? null : AmqpAddress.parse(to);
        if (target == null || target.kind() != AmqpAddress.Kind.DEVICE_C2D || target.moduleId() != null) {
            settle(delivery, rejected(AmqpErrors.of(HubErrorCode.ArgumentInvalid,
                    "'to' must be /devices/{deviceId}/messages/deviceBound")));
            return;
        }
        CompletableFuture<CloudToDeviceService.SendResult> sent;
        try {
            sent = endpoint.c2d.send(target.deviceId(), AmqpMessages.toOutgoing(message));
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, error) -> onLoop(() -> settle(delivery,
                error == null ? Accepted.getInstance() : rejected(AmqpErrors.of(error)))));
    }

    /** The peer settled (or stated an outcome for) something the hub sent: C2D messages and feedback batches. */
    private void onOutcome(Delivery delivery) {
        DeliveryState state = delivery.getRemoteState();
        if (state == null && !delivery.remotelySettled()) {
            return;
        }
        Object context = delivery.getContext();
        delivery.setContext(null);
        delivery.settle();
        if (context instanceof CompletableFuture<?> pending) {
            @SuppressWarnings("unchecked")
            CompletableFuture<Void> outcome = (CompletableFuture<Void>) pending;
            if (state instanceof Accepted || (state == null && delivery.remotelySettled())) {
                outcome.complete(null);
            } else if (state instanceof Rejected) {
                outcome.completeExceptionally(DeviceDisposition.reject());
            } else {
                outcome.completeExceptionally(DeviceDisposition.abandon()); // released or modified
            }
        } else if (context instanceof FeedbackLock lock) {
            Link link = delivery.getLink();
            CompletableFuture<Void> done = state instanceof Accepted
                    ? endpoint.c2d.completeFeedback(lock.token()) : endpoint.c2d.abandonFeedback(lock.token());
            done.whenComplete((ok, error) -> onLoop(() -> {
                if (feedbackPolling.containsKey(link)) {
                    feedbackPolling.put(link, Boolean.FALSE);
                    pollFeedback((Sender) link);
                }
            }));
        }
    }

    private byte[] nextTag() {
        return Long.toString(deliveryTags++).getBytes(StandardCharsets.US_ASCII);
    }

    void send(Sender sender, Message message, Object context, int sizeHint) {
        byte[] encoded = AmqpMessages.encode(message, sizeHint);
        Delivery delivery = sender.delivery(nextTag());
        delivery.setContext(context);
        sender.send(encoded, 0, encoded.length);
        sender.advance();
        if (sender.getSenderSettleMode() == SenderSettleMode.SETTLED) {
            delivery.settle();
            if (context instanceof CompletableFuture<?> f) {
                f.complete(null);
            }
        }
    }

    // ---- feedback ---------------------------------------------------------------------------------------------

    private record FeedbackLock(String token) {
    }

    /** Takes a feedback batch when the receiver has credit and none is in flight; otherwise looks again later. */
    private void pollFeedback(Sender sender) {
        if (!Boolean.FALSE.equals(feedbackPolling.get(sender)) || sender.getCredit() <= 0) {
            return;
        }
        feedbackPolling.put(sender, Boolean.TRUE);
        endpoint.c2d.receiveFeedback().whenComplete((batch, error) -> onLoop(() -> {
            if (!feedbackPolling.containsKey(sender)) {
                batch.ifPresent(b -> endpoint.c2d.abandonFeedback(b.lockToken()));
                return;
            }
            if (error != null || batch.isEmpty()) {
                feedbackPolling.put(sender, Boolean.FALSE);
                ctx.executor().schedule(() -> onLoop(() -> pollFeedback(sender)), FEEDBACK_POLL_MILLIS,
                        TimeUnit.MILLISECONDS);
                return;
            }
            byte[] json = Json.toBytes(FeedbackBatchJson.of(batch.get().records()));
            Message message = Message.Factory.create();
            Properties properties = new Properties();
            properties.setMessageId(batch.get().lockToken());
            properties.setContentType(Symbol.valueOf("application/vnd.microsoft.iothub.feedback.json"));
            properties.setUserId(new Binary(endpoint.aliases.hostName().getBytes(StandardCharsets.UTF_8)));
            message.setProperties(properties);
            message.setBody(new Data(new Binary(json)));
            send(sender, message, new FeedbackLock(batch.get().lockToken()), json.length);
        }));
    }

    // ---- CBS --------------------------------------------------------------------------------------------------

    private void onPutToken(Delivery delivery, Message request) {
        settle(delivery, Accepted.getInstance());
        Map<String, String> props = AmqpMessages.applicationProperties(request);
        Object body = request.getBody() instanceof AmqpValue v ? v.getValue() : null;
        String audience = props.get("name");
        if (!PUT_TOKEN.toString().equals(props.get("operation")) || audience == null || !(body instanceof String)) {
            cbsReply(delivery.getLink().getSession(), request, 400, "expected put-token with a name and a token");
            return;
        }
        String token = (String) body;
        String path = AmqpAddress.audiencePath(audience);
        Session session = delivery.getLink().getSession();
        if (eventHubs != null && eventHubs.isAudience(path)) {
            eventHubs.putToken(path, token, (status, description) -> {
                if (status == 200) {
                    authenticated();
                }
                cbsReply(session, request, status, description);
            });
            return;
        }
        AmqpAddress identity = AmqpAddress.ofAudiencePath(path);
        offLoop(() -> authenticate(identity, token)).whenComplete((grantee, error) -> onLoop(() -> {
            if (error != null) {
                log.info("AMQP put-token from {} for {} refused: {}", ctx.channel().remoteAddress(), audience,
                        AuthenticationRefused.reasonOf(error));
                // a throttled connect is IoT Hub's 429, which the SDKs retry; anything else is 401
                cbsReply(session, request, throttled(error) ? 429 : 401, AmqpErrors.of(error).getDescription());
                return;
            }
            grant(grantee.key(), grantee.device(), grantee.expiresAtMillis(), grantee.principal());
            cbsReply(session, request, 200, "OK");
        }));
    }

    /** {@code principal} is the service's (null for a device's). */
    private record Grantee(String key, AuthenticatedDevice device, long expiresAtMillis, ServicePrincipal principal) {
    }

    /** Whether authentication failed because the hub's connect throttle refused the attempt. */
    private static boolean throttled(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return cause instanceof HubException hub && hub.errorCode() == HubErrorCode.ThrottlingException;
    }

    /** Runs off the event loop. {@code identity} is null for service (hub-scoped) tokens. */
    private Grantee authenticate(AmqpAddress identity, String token) {
        if (identity != null && identity.kind() == AmqpAddress.Kind.TELEMETRY) {
            AuthenticatedDevice device = endpoint.devices.authenticate(identity.deviceId(), identity.moduleId(),
                    token, null, AuthenticationGuard.addressOf(ctx.channel().remoteAddress()));
            return new Grantee(device.clientId(), device, expiryMillis(device.credentialExpiry()), null);
        }
        ServicePrincipal principal = endpoint.services.authenticate(token, Permission.ServiceConnect);
        return new Grantee(SERVICE_GRANT, null, SasToken.parse(token).expiry().toEpochMilli(), principal);
    }

    private static long expiryMillis(long epochSeconds) {
        return epochSeconds >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : epochSeconds * 1000;
    }

    /**
     * Records (or renews) a grant and arms its expiry; a service grant ({@code principal} not null) is also closed
     * as soon as the policy key that signed its token stops holding.
     */
    private void grant(String key, AuthenticatedDevice device, long expiresAtMillis, ServicePrincipal principal) {
        authenticated();
        Grant grant = grants.computeIfAbsent(key, Grant::new);
        grant.device = device;
        releaseKeyHold(grant);
        ServiceGrants held = endpoint.serviceGrants;
        if (principal != null && held != null) {
            grant.keyHold = held.hold(principal, why -> onLoop(() -> keyRevoked(grant, why)));
        }
        grant.expiresAtMillis = expiresAtMillis;
        if (grant.expiryTimer != null) {
            grant.expiryTimer.cancel(false);
        }
        if (expiresAtMillis != Long.MAX_VALUE) {
            long delay = Math.max(0, expiresAtMillis - System.currentTimeMillis());
            grant.expiryTimer = ctx.executor().schedule(() -> onLoop(() -> expire(grant)), delay,
                    TimeUnit.MILLISECONDS);
        }
        log.info("AMQP connection from {} authorised for {} until {}", ctx.channel().remoteAddress(),
                key.equals(SERVICE_GRANT) ? "the service" : key,
                expiresAtMillis == Long.MAX_VALUE ? "revoked" : Instant.ofEpochMilli(expiresAtMillis));
    }

    private void expire(Grant grant) {
        if (grants.get(grant.key) != grant || grant.expiresAtMillis > System.currentTimeMillis()) {
            return; // renewed meanwhile
        }
        log.info("AMQP token for {} expired: detaching its {} links", grant.key, grant.links.size());
        cutOff(grant, AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "the token expired"));
    }

    /**
     * The policy key behind the service grant stopped holding: its links are detached and, when nothing else is
     * authorised on the connection, the connection is closed, both with {@code amqp:unauthorized-access} and the
     * reason, so that the client authenticates again with a key that holds.
     */
    private void keyRevoked(Grant grant, String why) {
        if (closed || grants.get(grant.key) != grant) {
            return;
        }
        ErrorCondition condition = AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "revoked: " + why);
        log.info("AMQP connection from {}: {}: detaching the service's {} links", ctx.channel().remoteAddress(), why,
                grant.links.size());
        cutOff(grant, condition);
        nothingAuthorised(condition);
    }

    /** Grants were revoked: the connection closes if nothing else is authorised on it. */
    private void nothingAuthorised(ErrorCondition condition) {
        if (!closed && grants.isEmpty() && (eventHubs == null || !eventHubs.hasGrants())) {
            closeConnection(condition);
        }
    }

    private void releaseKeyHold(Grant grant) {
        if (grant.keyHold != null) {
            grant.keyHold.run();
            grant.keyHold = null;
        }
    }

    private void cutOff(Grant grant, ErrorCondition condition) {
        grants.remove(grant.key);
        releaseKeyHold(grant);
        for (Link link : List.copyOf(grant.links)) {
            releaseLink(link);
            link.setCondition(condition);
            link.close();
        }
        if (grant.registered != null) {
            endpoint.connections.unregister(grant.registered);
            grant.registered = null;
        }
    }

    private void cbsReply(Session session, Message request, int status, String description) {
        Sender replies = null;
        for (Link link = connection.linkHead(null, null); link != null; link = link.next(null, null)) {
            if (link instanceof Sender s && link.getContext() instanceof LinkRole role
                    && role.address().kind() == AmqpAddress.Kind.CBS
                    && link.getLocalState() == EndpointState.ACTIVE
                    && (replies == null || link.getSession() == session)) {
                replies = s;
            }
        }
        if (replies == null) {
            return; // the peer did not ask for answers
        }
        Message reply = Message.Factory.create();
        Properties properties = new Properties();
        properties.setCorrelationId(request.getMessageId());
        properties.setTo(request.getReplyTo());
        reply.setProperties(properties);
        Map<String, Object> app = new LinkedHashMap<>();
        app.put("status-code", status);
        app.put("status-description", description);
        reply.setApplicationProperties(new ApplicationProperties(app));
        send(replies, reply, null, 256);
    }

    // ---- SASL -------------------------------------------------------------------------------------------------

    /** SASL ANONYMOUS (authorise later on $cbs) and PLAIN with a SAS token as the password. */
    private final class SaslServer implements SaslListener {
        @Override
        public void onSaslInit(Sasl sasl, Transport transport) {
            String[] mechanisms = sasl.getRemoteMechanisms();
            String mechanism = mechanisms.length == 0 ? "" : mechanisms[0];
            byte[] response = new byte[Math.max(0, sasl.pending())];
            sasl.recv(response, 0, response.length);
            if (mechanism.equals("ANONYMOUS")) {
                sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
                return;
            }
            if (!mechanism.equals("PLAIN")) {
                log.info("AMQP SASL mechanism '{}' refused", mechanism);
                refuseLogin(sasl);
                return;
            }
            String[] parts = new String(response, StandardCharsets.UTF_8).split("\0", -1);
            if (parts.length != 3) {
                log.info("AMQP SASL PLAIN refused: malformed response");
                refuseLogin(sasl);
                return;
            }
            String user = parts[1];
            String password = parts[2];
            int at = user.lastIndexOf("@sas.");
            if (at <= 0 && eventHubs != null) {
                // Event Hubs clients log in with a policy's name and its key (or a SAS token)
                eventHubs.login(user, password, ok -> {
                    if (ok) {
                        authenticated();
                        sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
                    } else {
                        refuseLogin(sasl);
                    }
                });
                return;
            }
            if (at <= 0) {
                log.info("AMQP SASL PLAIN refused: user name '{}' is not {{id}}@sas.{{hub}}", user);
                refuseLogin(sasl);
                return;
            }
            String name = user.substring(0, at);
            boolean service = user.startsWith("root.", at + 5);
            AmqpAddress identity = service ? null : AmqpAddress.parse("/devices/" + name + "/messages/events");
            if (!service && identity == null) {
                refuseLogin(sasl);
                return;
            }
            offLoop(() -> authenticate(identity, password)).whenComplete((grantee, error) -> onLoop(() -> {
                if (error != null) {
                    log.info("AMQP SASL PLAIN login of {} from {} refused: {}", name, ctx.channel().remoteAddress(),
                            AuthenticationRefused.reasonOf(error));
                    if (throttled(error)) {
                        sasl.done(Sasl.SaslOutcome.PN_SASL_TEMP); // sys-temp: try again later
                        closing = true;
                    } else {
                        refuseLogin(sasl);
                    }
                    return;
                }
                grant(grantee.key(), grantee.device(), grantee.expiresAtMillis(), grantee.principal());
                sasl.done(Sasl.SaslOutcome.PN_SASL_OK);
            }));
        }

        /** A failed login ends the connection: the peer gets the outcome, then the channel closes. */
        private void refuseLogin(Sasl sasl) {
            sasl.done(Sasl.SaslOutcome.PN_SASL_AUTH);
            closing = true;
        }

        @Override
        public void onSaslMechanisms(Sasl sasl, Transport transport) {
        }

        @Override
        public void onSaslChallenge(Sasl sasl, Transport transport) {
        }

        @Override
        public void onSaslResponse(Sasl sasl, Transport transport) {
        }

        @Override
        public void onSaslOutcome(Sasl sasl, Transport transport) {
        }
    }

    // ---- hub-facing views -------------------------------------------------------------------------------------

    /** A device's cloud-to-device receiver link as the C2D service's inbox. */
    private final class AmqpInbox implements DeviceInbox {
        private final AuthenticatedDevice device;
        private final Sender sender;
        private volatile boolean open = true;

        AmqpInbox(AuthenticatedDevice device, Sender sender) {
            this.device = device;
            this.sender = sender;
        }

        @Override
        public String deviceId() {
            return device.deviceId();
        }

        @Override
        public String generationId() {
            return device.generationId();
        }

        void closed() {
            open = false;
            // the engine forgets unsettled deliveries with the link: their outcome is "connection gone"
            for (Delivery d = sender.head(); d != null; d = d.next()) {
                if (d.getContext() instanceof CompletableFuture<?> f) {
                    f.completeExceptionally(new HubException(HubErrorCode.DeviceConnectionClosedRemotely,
                            "the link closed"));
                }
            }
        }

        @Override
        public CompletableFuture<Void> deliver(C2dMessage message) {
            CompletableFuture<Void> outcome = new CompletableFuture<>();
            if (!open) {
                outcome.completeExceptionally(new HubException(HubErrorCode.DeviceNotOnline, "the link closed"));
                return outcome;
            }
            ctx.executor().execute(() -> {
                if (!open || closed) {
                    outcome.completeExceptionally(new HubException(HubErrorCode.DeviceNotOnline, "the link closed"));
                    return;
                }
                send(sender, AmqpMessages.fromC2d(message), outcome, message.body().length);
                flush();
            });
            return outcome;
        }
    }

    /** A device's presence on this connection, for the registry's connection state and for cut-offs. */
    final class AmqpDeviceLink implements DeviceLink {
        private final AuthenticatedDevice identity;
        /** Set while the device's streams link pair is attached. */
        volatile StreamRequestSink streamSink;
        private long lastActivityReport;

        AmqpDeviceLink(AuthenticatedDevice identity) {
            this.identity = identity;
        }

        /** Moves the identity's lastActivityTime; at most once a second, it is not worth more per message. */
        void reportActivity() {
            long now = System.currentTimeMillis();
            if (now - lastActivityReport >= 1000) {
                lastActivityReport = now;
                endpoint.connections.activity(this);
            }
        }

        @Override
        public AuthenticatedDevice identity() {
            return identity;
        }

        @Override
        public String transport() {
            return transportName;
        }

        @Override
        public Optional<StreamRequestSink> streamRequests() {
            return Optional.ofNullable(streamSink);
        }

        @Override
        public void close(HubErrorCode reason) {
            onLoop(() -> {
                Grant grant = grants.get(identity.clientId());
                if (grant != null && grant.registered == this) {
                    // the token no longer counts: a disabled, deleted or re-keyed identity must authenticate again
                    cutOff(grant, AmqpErrors.of(reason, reason.defaultMessage()));
                }
            });
        }
    }
}
