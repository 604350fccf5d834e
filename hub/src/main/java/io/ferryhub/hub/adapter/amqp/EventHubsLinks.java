package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;
import io.ferryhub.hub.service.auth.AuthenticationRefused;
import io.ferryhub.hub.service.auth.Permission;
import io.ferryhub.hub.service.auth.ServiceGrants;
import io.ferryhub.hub.service.auth.ServicePrincipal;
import io.ferryhub.hub.service.telemetry.EventStreamService;
import io.ferryhub.hub.service.telemetry.PartitionInfo;
import io.ferryhub.hub.service.telemetry.PartitionOwnership;
import io.ferryhub.hub.service.telemetry.StartPosition;
import io.ferryhub.hub.service.telemetry.StoredEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.DeliveryAnnotations;
import org.apache.qpid.proton.amqp.messaging.Properties;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.amqp.transport.SenderSettleMode;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.EndpointState;
import org.apache.qpid.proton.engine.Link;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Sender;
import org.apache.qpid.proton.engine.Session;
import org.apache.qpid.proton.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The built-in endpoint's links on one AMQP connection, as Event Hubs clients use them: CBS tokens for an entity
 * path, the {@code $management} request/response node, and partition receivers
 * ({@code {eventHub}/ConsumerGroups/{group}/Partitions/{p}}) that stream the event log within the link credit.
 *
 * <p>Runs on the connection's event loop like the rest of the connection; reads and token checks run elsewhere and
 * come back through {@code onLoop}. A receiver reads ahead of its credit into a small buffer (at most one read in
 * flight, the buffer bounded in events and bytes), so that credit is answered at once from memory while the next
 * read runs; it sends nothing while the channel is not writable: a slow reader costs bounded memory.
 */
final class EventHubsLinks {
    private static final Logger log = LoggerFactory.getLogger(EventHubsLinks.class);
    static final String MANAGEMENT = "$management";
    private static final Duration READ_WAIT = Duration.ofSeconds(10);
    private static final int READ_AHEAD_EVENTS = EventStreamService.MAX_EVENTS_PER_READ;
    private static final long READ_AHEAD_BYTES = 1024 * 1024;
    private static final long THROTTLED_RETRY_MILLIS = 1000;
    private static final int MANAGEMENT_CREDIT = 10;
    private static final String EVENTHUB_TYPE = "com.microsoft:eventhub";
    private static final String PARTITION_TYPE = "com.microsoft:partition";
    /** A receiver's link property: its epoch (owner level), for exclusive reading of a partition. */
    static final Symbol EPOCH = Symbol.valueOf("com.microsoft:epoch");
    /** A receiver's desired capability: each event carries the partition's last enqueued event. */
    static final Symbol RUNTIME_METRIC = Symbol.valueOf("com.microsoft:enable-receiver-runtime-metric");

    /** A partition receiver's entity path. */
    record EntityPath(String eventHub, String consumerGroup, String partition) {
        /** The path, or null when {@code address} is not one. */
        static EntityPath parse(String address) {
            if (address == null) {
                return null;
            }
            String path = AmqpAddress.withoutHost(address);
            String[] s = (path.startsWith("/") ? path.substring(1) : path).split("/", -1);
            if (s.length != 5 || !s[1].equalsIgnoreCase("ConsumerGroups") || !s[3].equalsIgnoreCase("Partitions")) {
                return null;
            }
            return new EntityPath(s[0], s[2], s[4]);
        }

        List<String> segments() {
            return lowerCase(List.of(eventHub, "consumergroups", consumerGroup, "partitions", partition));
        }
    }

    /** What one put-token authorised: an audience path, until when, and the receivers attached under it. */
    private static final class Grant {
        final List<String> audience;
        long expiresAtMillis;
        ScheduledFuture<?> expiryTimer;
        final List<Link> links = new ArrayList<>();
        /** Its hold on the policy key that authorised it (see {@link ServiceGrants}). */
        Runnable keyHold;

        Grant(List<String> audience) {
            this.audience = audience;
        }
    }

    /** Link roles, kept as the Proton link's context. */
    private record ManagementRequests() {
    }

    private record ManagementReplies() {
    }

    private static final class PartitionReceiver {
        final Sender sender;
        final String consumerGroup;
        final int partition;
        final Grant grant;
        final boolean runtimeMetric;
        PartitionOwnership.Claim claim;
        /** Where the next read continues: after the last event read, sent or not. */
        StartPosition position;
        boolean reading;
        boolean open = true;
        /** Events read and already encoded as messages, waiting for credit. */
        final ArrayDeque<byte[]> readAhead = new ArrayDeque<>();
        long readAheadBytes;

        PartitionReceiver(Sender sender, String consumerGroup, int partition, Grant grant, StartPosition position,
                          boolean runtimeMetric) {
            this.sender = sender;
            this.consumerGroup = consumerGroup;
            this.partition = partition;
            this.grant = grant;
            this.position = position;
            this.runtimeMetric = runtimeMetric;
        }

        boolean readAheadFull() {
            return readAhead.size() >= READ_AHEAD_EVENTS || readAheadBytes >= READ_AHEAD_BYTES;
        }

        void close() {
            open = false;
            readAhead.clear();
            readAheadBytes = 0;
            if (claim != null) {
                claim.release();
            }
        }
    }

    private final EventHubsEndpoint hub;
    private final ChannelHandlerContext ctx;
    private final Consumer<Runnable> onLoop;
    private final Blocking blocking;
    private final ServiceGrants serviceGrants;
    private final Consumer<ErrorCondition> revokedAll;
    private final Map<String, Grant> grants = new HashMap<>();
    private long deliveryTags;

    /** The connection's way to run blocking work (token checks, storage) off its event loop. */
    interface Blocking {
        <T> CompletableFuture<T> offLoop(Supplier<T> work);
    }

    /**
     * @param onLoop runs a task on the connection's event loop, then lets the connection write what it produced
     */
    EventHubsLinks(EventHubsEndpoint hub, ServiceGrants serviceGrants, ChannelHandlerContext ctx,
                   Consumer<Runnable> onLoop, Blocking blocking, Consumer<ErrorCondition> revokedAll) {
        this.hub = hub;
        this.serviceGrants = serviceGrants;
        this.revokedAll = revokedAll;
        this.ctx = ctx;
        this.onLoop = onLoop;
        this.blocking = blocking;
    }

    // ---- CBS --------------------------------------------------------------------------------------------------

    /** Whether a CBS audience path ({@code /myhub/ConsumerGroups/...}) is the built-in endpoint's to authorise. */
    boolean isAudience(String path) {
        List<String> segments = segmentsOf(path);
        return !segments.isEmpty() && segments.get(0).equals(hub.eventHubName.toLowerCase(Locale.ROOT));
    }

    /** Checks an Event Hubs client's token for an audience and answers through {@code reply(status, description)}. */
    void putToken(String audiencePath, String token, BiConsumer<Integer, String> reply) {
        List<String> audience = segmentsOf(audiencePath);
        blocking.offLoop(() -> new Authorised(hub.services.authenticateEventHubs(token, Permission.ServiceConnect,
                audience), SasToken.parse(token).expiry().toEpochMilli())).whenComplete((ok, error) -> onLoop.accept(() -> {
            if (error != null) {
                log.info("Event Hubs put-token for {} refused: {}", String.join("/", audience),
                        AuthenticationRefused.reasonOf(error));
                reply.accept(401, AmqpErrors.of(error).getDescription());
                return;
            }
            grant(audience, ok.expiresAtMillis(), ok.principal());
            reply.accept(200, "OK");
        }));
    }

    /**
     * A SASL PLAIN login as Event Hubs clients make it: a policy's name and its key, which authorises the whole
     * event hub for the connection's life, or a SAS token, which does so until it expires.
     */
    void login(String policyName, String secret, Consumer<Boolean> done) {
        List<String> eventHub = lowerCase(List.of(hub.eventHubName));
        blocking.offLoop(() -> {
            if (secret.startsWith(SasToken.PREFIX)) {
                return new Authorised(hub.services.authenticateEventHubs(secret, Permission.ServiceConnect, eventHub),
                        SasToken.parse(secret).expiry().toEpochMilli());
            }
            return new Authorised(hub.services.authenticateKey(policyName, secret, Permission.ServiceConnect),
                    Long.MAX_VALUE);
        }).whenComplete((ok, error) -> onLoop.accept(() -> {
            if (error != null) {
                log.info("Event Hubs SASL PLAIN login of '{}' refused: {}", policyName,
                        AuthenticationRefused.reasonOf(error));
                done.accept(false);
                return;
            }
            grant(eventHub, ok.expiresAtMillis(), ok.principal());
            done.accept(true);
        }));
    }

    /** Who a token or key login authorised, until when. */
    private record Authorised(ServicePrincipal principal, long expiresAtMillis) {
    }

    private void grant(List<String> audience, long expiresAtMillis, ServicePrincipal principal) {
        Grant grant = grants.computeIfAbsent(String.join("/", audience), k -> new Grant(audience));
        grant.expiresAtMillis = expiresAtMillis;
        releaseKeyHold(grant);
        if (serviceGrants != null) {
            grant.keyHold = serviceGrants.hold(principal, why -> onLoop.accept(() -> keyRevoked(grant, why)));
        }
        if (grant.expiryTimer != null) {
            grant.expiryTimer.cancel(false);
            grant.expiryTimer = null;
        }
        if (expiresAtMillis != Long.MAX_VALUE) {
            long delay = Math.max(0, expiresAtMillis - System.currentTimeMillis());
            grant.expiryTimer = ctx.executor().schedule(() -> onLoop.accept(() -> expire(grant)), delay,
                    TimeUnit.MILLISECONDS);
        }
        log.info("AMQP connection from {} authorised to read {} {}", ctx.channel().remoteAddress(),
                String.join("/", audience), expiresAtMillis == Long.MAX_VALUE ? "for the connection's life"
                        : "until " + Instant.ofEpochMilli(expiresAtMillis));
    }

    private void expire(Grant grant) {
        if (grants.get(String.join("/", grant.audience)) != grant
                || grant.expiresAtMillis > System.currentTimeMillis()) {
            return; // renewed meanwhile
        }
        log.info("Event Hubs token for {} expired: detaching its {} receivers", String.join("/", grant.audience),
                grant.links.size());
        cutOff(grant, AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "the token expired"));
    }

    /**
     * The policy key behind the grant stopped holding: its receivers are detached with
     * {@code amqp:unauthorized-access} and the reason, and the connection closes if nothing else is authorised.
     */
    private void keyRevoked(Grant grant, String why) {
        if (grants.get(String.join("/", grant.audience)) != grant) {
            return;
        }
        ErrorCondition condition = AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "revoked: " + why);
        log.info("Event Hubs grant for {}: {}: detaching its {} receivers", String.join("/", grant.audience), why,
                grant.links.size());
        cutOff(grant, condition);
        revokedAll.accept(condition);
    }

    private void cutOff(Grant grant, ErrorCondition condition) {
        grants.remove(String.join("/", grant.audience));
        releaseKeyHold(grant);
        if (grant.expiryTimer != null) {
            grant.expiryTimer.cancel(false);
        }
        for (Link link : List.copyOf(grant.links)) {
            release(link);
            link.setCondition(condition);
            link.close();
        }
    }

    private static void releaseKeyHold(Grant grant) {
        if (grant.keyHold != null) {
            grant.keyHold.run();
            grant.keyHold = null;
        }
    }

    /** Whether anything is authorised for the built-in endpoint on this connection. */
    boolean hasGrants() {
        return !grants.isEmpty();
    }

    /** The live grant whose audience covers {@code path}, or null. */
    private Grant grantCovering(List<String> path) {
        long now = System.currentTimeMillis();
        for (Grant grant : grants.values()) {
            if (grant.expiresAtMillis > now && grant.audience.size() <= path.size()
                    && grant.audience.equals(path.subList(0, grant.audience.size()))) {
                return grant;
            }
        }
        return null;
    }

    // ---- attach -----------------------------------------------------------------------------------------------

    /** Attaches a link if its address is the built-in endpoint's; false leaves it to the connection. */
    boolean attach(Link link, String address) {
        if (MANAGEMENT.equals(address)) {
            if (link instanceof Receiver receiver) {
                open(link, new ManagementRequests());
                receiver.flow(MANAGEMENT_CREDIT);
            } else {
                open(link, new ManagementReplies());
            }
            return true;
        }
        EntityPath path = EntityPath.parse(address);
        if (path == null) {
            return false;
        }
        if (!(link instanceof Sender sender)) {
            refuse(link, new ErrorCondition(AmqpErrors.NOT_ALLOWED, "'" + address + "' is read-only: the built-in "
                    + "endpoint takes events from devices only"));
            return true;
        }
        ErrorCondition refusal = checkEntity(path);
        Grant grant = refusal != null ? null : grantCovering(path.segments());
        if (refusal == null && grant == null) {
            refusal = AmqpErrors.of(HubErrorCode.IotHubUnauthorizedAccess, "no live token for '" + address
                    + "': put one on $cbs first");
        }
        StartPosition start = null;
        Long epoch = null;
        if (refusal == null) {
            try {
                start = EventHubsMessages.startPosition(link.getRemoteSource() instanceof Source s ? s : null);
                epoch = epochOf(link);
            } catch (HubException e) {
                refusal = AmqpErrors.of(e);
            }
        }
        if (refusal != null) {
            refuse(link, refusal);
            return true;
        }
        int partition = Integer.parseInt(path.partition());
        if (start instanceof StartPosition.Latest) {
            // "after the last event" means at attach time, not whenever credit first arrives
            long last = hub.events.partitionInfo(partition).lastSequenceNumber();
            start = last < 0 ? StartPosition.earliest() : new StartPosition.SequenceNumber(last, false);
        }
        boolean runtimeMetric = desires(link, RUNTIME_METRIC);
        PartitionReceiver receiver = new PartitionReceiver(sender, path.consumerGroup(), partition, grant, start,
                runtimeMetric);
        try {
            receiver.claim = hub.events.claimPartition(path.consumerGroup(), partition, epoch,
                    reason -> onLoop.accept(() -> displace(receiver, reason)));
        } catch (HubException e) {
            refuse(link, new ErrorCondition(AmqpErrors.STOLEN, e.getMessage()));
            return true;
        }
        if (runtimeMetric) {
            link.setOfferedCapabilities(new Symbol[]{RUNTIME_METRIC});
        }
        grant.links.add(link);
        open(link, receiver);
        log.info("Event Hubs receiver attached on {} from {}{}{}", address, start,
                epoch == null ? "" : " with epoch " + epoch, runtimeMetric ? " with the runtime metric" : "");
        serve(receiver);
        return true;
    }

    /** The receiver's epoch, or null when it has none. */
    private static Long epochOf(Link link) {
        Map<Symbol, Object> properties = link.getRemoteProperties();
        Object epoch = properties == null ? null : properties.get(EPOCH);
        if (epoch == null) {
            return null;
        }
        if (epoch instanceof Long || epoch instanceof Integer || epoch instanceof Short || epoch instanceof Byte) {
            return ((Number) epoch).longValue();
        }
        throw new HubException(HubErrorCode.ArgumentInvalid, "the link property " + EPOCH + " must be a long, not '"
                + epoch + "'");
    }

    private static boolean desires(Link link, Symbol capability) {
        Symbol[] desired = link.getRemoteDesiredCapabilities();
        return desired != null && Arrays.asList(desired).contains(capability);
    }

    /** A receiver with a higher epoch took the partition: this one is detached, as Event Hubs does. */
    private void displace(PartitionReceiver receiver, String reason) {
        if (!receiver.open) {
            return;
        }
        log.info("Event Hubs receiver on partition {} of '{}' from {} detached: {}", receiver.partition,
                receiver.consumerGroup, ctx.channel().remoteAddress(), reason);
        release(receiver.sender);
        receiver.sender.setCondition(new ErrorCondition(AmqpErrors.STOLEN, reason));
        receiver.sender.close();
    }

    /** Null when the entity exists; else why not. */
    private ErrorCondition checkEntity(EntityPath path) {
        if (!path.eventHub().equalsIgnoreCase(hub.eventHubName)) {
            return notFound("no event hub '" + path.eventHub() + "' (the built-in endpoint is '" + hub.eventHubName
                    + "')");
        }
        if (hub.events.consumerGroups().stream().noneMatch(g -> g.equalsIgnoreCase(path.consumerGroup()))) {
            return notFound("no consumer group '" + path.consumerGroup() + "' in '" + hub.eventHubName + "'");
        }
        if (partitionOf(path.partition()) < 0) {
            return notFound("no partition '" + path.partition() + "' (the event hub has "
                    + hub.events.partitionCount() + ")");
        }
        return null;
    }

    private int partitionOf(String id) {
        try {
            int p = Integer.parseInt(id);
            return p >= 0 && p < hub.events.partitionCount() && Integer.toString(p).equals(id) ? p : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static ErrorCondition notFound(String description) {
        return new ErrorCondition(AmqpErrors.NOT_FOUND, description);
    }

    private static void open(Link link, Object role) {
        link.setContext(role);
        AmqpLinks.mirror(link);
        link.open();
    }

    private void refuse(Link link, ErrorCondition condition) {
        log.info("Event Hubs link refused on {}: {} {}", ctx.channel().remoteAddress(), condition.getCondition(),
                condition.getDescription());
        AmqpLinks.refuse(link, condition);
    }

    /** Forgets a link of ours (detached by either side); false when it is not ours. */
    boolean release(Link link) {
        Object role = link.getContext();
        if (role instanceof PartitionReceiver receiver) {
            receiver.close();
            receiver.grant.links.remove(link);
        } else if (!(role instanceof ManagementRequests) && !(role instanceof ManagementReplies)) {
            return false;
        }
        link.setContext(null);
        return true;
    }

    /** The connection is gone: stop timers; pending reads find their receivers closed. */
    void close() {
        for (Grant grant : grants.values()) {
            releaseKeyHold(grant);
            if (grant.expiryTimer != null) {
                grant.expiryTimer.cancel(false);
            }
            for (Link link : grant.links) {
                if (link.getContext() instanceof PartitionReceiver receiver) {
                    receiver.close();
                }
            }
        }
        grants.clear();
    }

    // ---- partition receivers ----------------------------------------------------------------------------------

    /** The peer granted credit: the receiver sends what it has read ahead, and reads on. */
    void onFlow(Link link) {
        if (link.getContext() instanceof PartitionReceiver receiver) {
            serve(receiver);
        }
    }

    /** The socket drained: receivers that stopped sending while it was full go on. */
    void onWritable() {
        for (Grant grant : grants.values()) {
            for (Link link : grant.links) {
                if (link.getContext() instanceof PartitionReceiver receiver) {
                    serve(receiver);
                }
            }
        }
    }

    /**
     * Sends what the credit allows from the read-ahead buffer, then starts the next read if the buffer has room.
     * Reads do not wait for credit: a flow frame finds the events already in memory, and the read that refills
     * the buffer overlaps with sending instead of alternating with it.
     */
    private void serve(PartitionReceiver receiver) {
        if (!receiver.open) {
            return;
        }
        // Proton takes a delivery's credit when it is advanced, queued or not: what is left is what may be sent
        while (receiver.sender.getCredit() > 0 && !receiver.readAhead.isEmpty() && ctx.channel().isWritable()) {
            byte[] message = receiver.readAhead.poll();
            receiver.readAheadBytes -= message.length;
            send(receiver.sender, message);
        }
        if (receiver.reading || receiver.readAheadFull()) {
            return; // the read's completion, a flow frame or the socket draining resumes it
        }
        receiver.reading = true;
        hub.events.read(receiver.consumerGroup, receiver.partition, receiver.position,
                        READ_AHEAD_EVENTS - receiver.readAhead.size(), READ_WAIT)
                // on the reading thread: the event loop only moves the encoded bytes. A read that completed before
                // this stage was attached would run it on the event loop instead, so that one is handed off.
                .thenCompose(result -> {
                    Supplier<EncodedRead> encoded = () -> new EncodedRead(encode(receiver, result.events()),
                            result.nextOffset());
                    return ctx.executor().inEventLoop() ? blocking.offLoop(encoded)
                            : CompletableFuture.completedFuture(encoded.get());
                })
                .whenComplete((read, error) -> onLoop.accept(() -> {
                    receiver.reading = false;
                    if (!receiver.open) {
                        return;
                    }
                    if (error != null) {
                        onReadFailure(receiver, error);
                        return;
                    }
                    for (byte[] message : read.messages()) {
                        receiver.readAhead.add(message);
                        receiver.readAheadBytes += message.length;
                    }
                    receiver.position = new StartPosition.Offset(read.nextOffset(), true);
                    serve(receiver);
                }));
    }

    /** A read's events as messages, and where the next read continues. */
    private record EncodedRead(List<byte[]> messages, long nextOffset) {
    }

    /**
     * Events as the receiver gets them; with the runtime metric, the partition's state is looked up after the read,
     * so it covers at least the events read.
     */
    private List<byte[]> encode(PartitionReceiver receiver, List<StoredEvent> events) {
        DeliveryAnnotations runtime = receiver.runtimeMetric && !events.isEmpty()
                ? EventHubsMessages.lastEnqueued(hub.events.partitionInfo(receiver.partition),
                System.currentTimeMillis()) : null;
        List<byte[]> messages = new ArrayList<>(events.size());
        for (StoredEvent event : events) {
            Message message = EventHubsMessages.toAmqp(event);
            message.setDeliveryAnnotations(runtime);
            messages.add(AmqpMessages.encode(message, event.data().body().length));
        }
        return messages;
    }

    private void onReadFailure(PartitionReceiver receiver, Throwable error) {
        ErrorCondition condition = AmqpErrors.of(error);
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        if (cause instanceof HubException e && e.errorCode() == HubErrorCode.ThrottlingException) {
            ctx.executor().schedule(() -> onLoop.accept(() -> serve(receiver)), THROTTLED_RETRY_MILLIS,
                    TimeUnit.MILLISECONDS);
            return;
        }
        log.info("Event Hubs receiver on partition {} detached: {}", receiver.partition, condition.getDescription());
        release(receiver.sender);
        receiver.sender.setCondition(condition);
        receiver.sender.close();
    }

    private void send(Sender sender, byte[] encoded) {
        Delivery delivery = sender.delivery(Long.toString(deliveryTags++).getBytes(StandardCharsets.US_ASCII));
        sender.send(encoded, 0, encoded.length);
        sender.advance();
        if (sender.getSenderSettleMode() == SenderSettleMode.SETTLED) {
            delivery.settle();
        }
    }

    // ---- deliveries: management requests and readers' outcomes ------------------------------------------------

    /** Takes a delivery on one of our links; false when the link is not ours. */
    boolean onDelivery(Delivery delivery) {
        Object role = delivery.getLink().getContext();
        if (role instanceof PartitionReceiver || role instanceof ManagementReplies) {
            if (delivery.remotelySettled() || delivery.getRemoteState() != null) {
                delivery.settle(); // an event is read once it is out: the outcome changes nothing
            }
            return true;
        }
        if (!(role instanceof ManagementRequests)) {
            return false;
        }
        Receiver receiver = (Receiver) delivery.getLink();
        if (!delivery.isReadable() || delivery.isPartial()) {
            return true;
        }
        byte[] bytes = new byte[delivery.pending()];
        receiver.recv(bytes, 0, bytes.length);
        receiver.advance();
        if (!delivery.remotelySettled()) {
            delivery.disposition(Accepted.getInstance());
        }
        delivery.settle();
        if (receiver.getCredit() < MANAGEMENT_CREDIT / 2) {
            receiver.flow(MANAGEMENT_CREDIT - receiver.getCredit());
        }
        Message request;
        try {
            request = AmqpMessages.decode(bytes);
        } catch (RuntimeException e) {
            return true; // not a message: nothing to correlate an answer with
        }
        Session session = receiver.getSession();
        blocking.offLoop(() -> answer(request)).whenComplete((answer, error) -> onLoop.accept(() -> {
            Answer reply = error == null ? answer : Answer.of(error);
            reply(session, request, reply);
        }));
        return true;
    }

    /** A management answer: status and, on success, the body. */
    private record Answer(int status, String description, Map<String, Object> body) {
        static Answer of(Throwable error) {
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            if (cause instanceof HubException e && e.errorCode() == HubErrorCode.IotHubUnauthorizedAccess) {
                return new Answer(401, e.getMessage(), null);
            }
            return new Answer(500, "Internal server error", null);
        }
    }

    /** Runs off the event loop: the token check and the partition's runtime information. */
    private Answer answer(Message request) {
        Map<String, String> props = AmqpMessages.applicationProperties(request);
        String operation = props.get("operation");
        String type = props.get("type");
        String name = props.get("name");
        if (!"READ".equals(operation)) {
            return new Answer(400, "unsupported operation '" + operation + "': the management node answers READ",
                    null);
        }
        if (name == null || !name.equalsIgnoreCase(hub.eventHubName)) {
            return new Answer(404, "no event hub '" + name + "' (the built-in endpoint is '" + hub.eventHubName
                    + "')", null);
        }
        hub.services.authenticateEventHubs(props.get("security_token"), Permission.ServiceConnect, lowerCase(List.of(name)));
        Map<String, Object> body = new LinkedHashMap<>();
        if (EVENTHUB_TYPE.equals(type)) {
            String[] ids = new String[hub.events.partitionCount()];
            for (int p = 0; p < ids.length; p++) {
                ids[p] = Integer.toString(p);
            }
            body.put("name", hub.eventHubName);
            body.put("type", EVENTHUB_TYPE);
            body.put("created_at", Date.from(hub.createdAt));
            body.put("partition_count", ids.length);
            body.put("partition_ids", ids);
            return new Answer(200, "OK", body);
        }
        if (!PARTITION_TYPE.equals(type)) {
            return new Answer(400, "unsupported type '" + type + "': use " + EVENTHUB_TYPE + " or " + PARTITION_TYPE,
                    null);
        }
        String partitionId = props.get("partition");
        int partition = partitionOf(partitionId);
        if (partition < 0) {
            return new Answer(404, "no partition '" + partitionId + "' (the event hub has "
                    + hub.events.partitionCount() + ")", null);
        }
        PartitionInfo info = hub.events.partitionInfo(partition);
        body.put("name", hub.eventHubName);
        body.put("type", PARTITION_TYPE);
        body.put("partition", partitionId);
        body.put("begin_sequence_number", info.beginSequenceNumber());
        body.put("last_enqueued_sequence_number", info.lastSequenceNumber());
        body.put("last_enqueued_offset", Long.toString(info.lastOffset()));
        body.put("last_enqueued_time_utc", new Date(info.lastEnqueuedTimeMillis()));
        body.put("is_partition_empty", info.isEmpty());
        return new Answer(200, "OK", body);
    }

    private void reply(Session session, Message request, Answer answer) {
        Sender replies = null;
        for (Link link = session.getConnection().linkHead(null, null); link != null; link = link.next(null, null)) {
            if (link instanceof Sender s && link.getContext() instanceof ManagementReplies
                    && link.getLocalState() == EndpointState.ACTIVE
                    && (replies == null || link.getSession() == session && addressedTo(link, request))) {
                replies = s;
            }
        }
        if (replies == null) {
            log.info("Event Hubs management request from {} has no reply link", ctx.channel().remoteAddress());
            return;
        }
        Message reply = Message.Factory.create();
        Properties properties = new Properties();
        properties.setCorrelationId(request.getMessageId());
        properties.setTo(request.getReplyTo());
        reply.setProperties(properties);
        Map<String, Object> app = new LinkedHashMap<>();
        app.put("status-code", answer.status());
        app.put("status-description", answer.description());
        reply.setApplicationProperties(new ApplicationProperties(app));
        if (answer.body() != null) {
            reply.setBody(new AmqpValue(answer.body()));
        }
        send(replies, AmqpMessages.encode(reply, 512));
    }

    private static boolean addressedTo(Link link, Message request) {
        return link.getRemoteTarget() instanceof Target t && t.getAddress() != null
                && t.getAddress().equals(request.getReplyTo());
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static List<String> segmentsOf(String path) {
        List<String> segments = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty()) {
                segments.add(s);
            }
        }
        return lowerCase(segments);
    }

    private static List<String> lowerCase(List<String> segments) {
        return segments.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList();
    }
}
