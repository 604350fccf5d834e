package io.ferryhub.hub.service.c2d;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.hub.service.c2d.C2dMessage;
import io.ferryhub.hub.storage.c2d.C2dStore;
import io.ferryhub.hub.storage.c2d.DeviceQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Cloud-to-device messaging with IoT Hub's semantics: a durable queue per device (50 messages, 64 KB each), a time
 * to live (1 hour by default, 2 days at most), delivery under a lock that returns the message to the queue if the
 * device does not acknowledge it in time or disconnects, a maximum delivery count, and feedback records for
 * senders that asked for them.
 *
 * <p>All state lives on one worker thread, which also does the (fsynced) writes: calls from event loops never
 * block, and every transition is ordered. Cloud-to-device traffic is throttled to a few messages per second per
 * unit on IoT Hub, so one thread is plenty.
 */
public final class CloudToDeviceService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CloudToDeviceService.class);
    private static final int MAX_ID_LENGTH = 128;
    /** RFC 7230 token characters: what IoT Hub allows in C2D property names. */
    private static final String TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";

    /**
     * IoT Hub's cloud-to-device settings.
     *
     * @param lockTimeout        how long a delivered message stays invisible waiting for its acknowledgement
     * @param feedbackLockTimeout how long a received feedback batch stays invisible waiting for completion
     */
    public record Settings(int maxQueueDepth, int maxMessageBytes, Duration defaultTtl, Duration maxTtl,
                           Duration lockTimeout, int maxDeliveryCount, Duration feedbackTtl,
                           Duration feedbackLockTimeout, int maxFeedbackBatch) {
        public static final Settings DEFAULTS = new Settings(50, 64 * 1024, Duration.ofHours(1), Duration.ofDays(2),
                Duration.ofMinutes(1), 10, Duration.ofHours(1), Duration.ofMinutes(1), 100);
    }

    /**
     * What a valid message must pass before it is queued: the hub's C2D throttle and its daily message quota (a
     * C2D send costs quota as on IoT Hub). Throws {@link HubException} ({@code ThrottlingException},
     * {@code IotHubQuotaExceeded}) to refuse it; runs on the C2D worker and must not block.
     */
    @FunctionalInterface
    public interface Admission {
        Admission ALL = messageBytes -> { };

        void admit(int messageBytes);
    }

    /** The hub's answer to a send. */
    public record SendResult(String messageId, long sequenceNumber, Instant expiry) {
    }

    /** Feedback records handed to the service side under one lock token. */
    public record FeedbackBatch(String lockToken, List<FeedbackRecord> records) {
    }

    /** A message handed to a polling device (HTTPS) under a lock token it completes, rejects or abandons with. */
    public record LockedMessage(String lockToken, C2dMessage message) {
    }

    /**
     * The lock holder of a message a device polled for: no connection stays open, so the lock is all there is.
     * Feedback records stamp its generation id.
     */
    private record PollingInbox(String deviceId, String generationId) implements DeviceInbox {
        @Override
        public CompletableFuture<Void> deliver(C2dMessage message) {
            throw new IllegalStateException("polled messages are not pushed");
        }
    }

    private static final class Entry {
        C2dMessage message;
        DeviceInbox lockedBy;
        long lockedUntil;
        /** Set while a polling device holds the lock; null for messages pushed to a connection. */
        String lockToken;

        Entry(C2dMessage message) {
            this.message = message;
        }
    }

    private static final class Queue {
        final String deviceId;
        String generationId;
        long nextSequence;
        final List<Entry> entries = new ArrayList<>();
        DeviceInbox inbox;

        Queue(String deviceId, String generationId, long nextSequence) {
            this.deviceId = deviceId;
            this.generationId = generationId;
            this.nextSequence = nextSequence;
        }
    }

    private static final class PendingFeedback {
        final FeedbackRecord record;
        String lockToken;
        long lockedUntil;

        PendingFeedback(FeedbackRecord record) {
            this.record = record;
        }
    }

    private final C2dStore store;
    private final Settings settings;
    private final Admission admission;
    private final Function<String, Optional<String>> deviceGeneration;
    private final Clock clock;
    private final ScheduledExecutorService worker;
    private final Map<String, Queue> queues = new HashMap<>();
    /**
     * Each queue's depth as of its last change, readable from any thread without waiting for the worker: registry
     * listings and twins (queries over many devices among them) show it as {@code cloudToDeviceMessageCount}.
     */
    private final Map<String, Integer> depths = new ConcurrentHashMap<>();
    private final List<PendingFeedback> feedback = new ArrayList<>();
    /** Feedback records were added or dropped since the last save. */
    private boolean feedbackDirty;

    /**
     * Loads the stored queues and feedback; locks do not survive a restart, so every message is deliverable again.
     *
     * @param deviceGeneration the generation id of a registered device, empty for an unknown one (sends to unknown
     *                         devices fail with 404001; the queue of a deleted device is dropped)
     */
    public CloudToDeviceService(C2dStore store, Settings settings, Function<String, Optional<String>> deviceGeneration,
                                Clock clock)
            throws IOException {
        this(store, settings, deviceGeneration, clock, Admission.ALL);
    }

    /** @param admission passes or refuses each valid message before it is queued (throttle, daily quota) */
    public CloudToDeviceService(C2dStore store, Settings settings, Function<String, Optional<String>> deviceGeneration,
                                Clock clock, Admission admission)
            throws IOException {
        this.store = store;
        this.admission = admission;
        this.settings = settings;
        this.deviceGeneration = deviceGeneration;
        this.clock = clock;
        for (DeviceQueue stored : store.loadQueues().values()) {
            Queue queue = new Queue(stored.deviceId(), stored.generationId(), stored.nextSequenceNumber());
            stored.messages().forEach(m -> queue.entries.add(new Entry(m)));
            queues.put(stored.deviceId(), queue);
            depths.put(stored.deviceId(), queue.entries.size());
        }
        store.loadFeedback().forEach(r -> feedback.add(new PendingFeedback(r)));
        worker = Executors.newSingleThreadScheduledExecutor(Threads.daemonFactory("c2d"));
        worker.scheduleWithFixedDelay(Threads.periodic("the C2D expiry sweep", this::sweep), 1, 1, TimeUnit.SECONDS);
    }

    /** Queues a message for a device; completes once it is durably queued. */
    public CompletableFuture<SendResult> send(String deviceId, OutgoingMessage message) {
        return onWorker(() -> enqueue(deviceId, message));
    }

    private SendResult enqueue(String deviceId, OutgoingMessage outgoing) {
        FeedbackMode ack = FeedbackMode.parse(outgoing.ack());
        String messageId = outgoing.messageId() == null || outgoing.messageId().isEmpty()
                ? UUID.randomUUID().toString() : outgoing.messageId();
        checkId("message id", messageId);
        if (outgoing.correlationId() != null) {
            checkId("correlation id", outgoing.correlationId());
        }
        outgoing.properties().keySet().forEach(CloudToDeviceService::checkPropertyName);
        int size = sizeOf(outgoing, messageId);
        if (size > settings.maxMessageBytes()) {
            throw new HubException(HubErrorCode.MessageTooLarge, "cloud-to-device message of " + size
                    + " bytes is over the " + settings.maxMessageBytes() + "-byte limit");
        }
        Instant now = clock.instant();
        Instant expiry = outgoing.expiry() == null ? now.plus(settings.defaultTtl()) : outgoing.expiry();
        if (!expiry.isAfter(now)) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "the expiry time " + expiry + " is in the past");
        }
        if (expiry.isAfter(now.plus(settings.maxTtl()))) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "the expiry time is more than " + settings.maxTtl().toHours() + " hours away");
        }
        Queue queue = queueOf(deviceId, registeredGeneration(deviceId));
        if (queue.entries.size() >= settings.maxQueueDepth()) {
            throw new HubException(HubErrorCode.DeviceMaximumQueueDepthExceeded, "device '" + deviceId
                    + "' already has " + queue.entries.size() + " messages queued");
        }
        // last, so a message refused for what it is costs no quota
        admission.admit(size);
        C2dMessage message = new C2dMessage(deviceId, messageId, queue.nextSequence, outgoing.correlationId(),
                outgoing.userId(), ack.name(), now.toEpochMilli(), expiry.toEpochMilli(), outgoing.properties(),
                outgoing.body(), 0, outgoing.contentType(), outgoing.contentEncoding());
        Entry entry = new Entry(message);
        queue.entries.add(entry);
        queue.nextSequence++;
        try {
            save(queue);
        } catch (UncheckedIOException e) {
            queue.entries.remove(entry);
            queue.nextSequence--;
            depths.put(deviceId, queue.entries.size());
            throw new HubException(HubErrorCode.ServerError, "the message could not be stored");
        }
        log.info("c2d message {} (#{}) queued for {}", messageId, message.sequenceNumber(), deviceId);
        pump(queue);
        return new SendResult(messageId, message.sequenceNumber(), expiry);
    }

    private String registeredGeneration(String deviceId) {
        return deviceGeneration.apply(deviceId).orElseThrow(() ->
                new HubException(HubErrorCode.DeviceNotFound, "device '" + deviceId + "' is not registered"));
    }

    /**
     * The queue of this generation of the device. A queue left by an earlier identity with the same id (deleted,
     * then created again) is emptied first: IoT Hub deletes a device's messages and feedback with the device.
     */
    private Queue queueOf(String deviceId, String generationId) {
        Queue queue = queues.get(deviceId);
        if (queue == null) {
            queue = new Queue(deviceId, generationId, 0);
            queues.put(deviceId, queue);
        } else if (!generationId.equals(queue.generationId)) {
            log.info("c2d queue of {} belonged to a deleted identity: {} messages dropped", deviceId,
                    queue.entries.size());
            queue.entries.clear();
            queue.generationId = generationId;
            dropFeedbackOf(deviceId);
            saveQuietly(queue);
        }
        return queue;
    }

    private void dropFeedbackOf(String deviceId) {
        if (feedback.removeIf(f -> f.record.deviceId().equals(deviceId))) {
            feedbackDirty = true;
            saveFeedbackQuietly();
        }
    }

    /** IoT Hub's size: the body, the system property values, application property names and values. */
    private static int sizeOf(OutgoingMessage message, String messageId) {
        int size = message.body().length + utf8(messageId) + utf8(message.correlationId()) + utf8(message.userId())
                + utf8(message.contentType()) + utf8(message.contentEncoding());
        for (Map.Entry<String, String> p : message.properties().entrySet()) {
            size += utf8(p.getKey()) + utf8(p.getValue());
        }
        return size;
    }

    private static int utf8(String s) {
        return s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static void checkId(String what, String id) {
        if (id.length() > MAX_ID_LENGTH) {
            throw new HubException(HubErrorCode.ArgumentInvalid, what + " is longer than " + MAX_ID_LENGTH);
        }
        for (int i = 0; i < id.length(); i++) {
            if (id.charAt(i) < 0x20 || id.charAt(i) > 0x7e) {
                throw new HubException(HubErrorCode.ArgumentInvalid, what + " must be printable 7-bit ASCII");
            }
        }
    }

    private static void checkPropertyName(String name) {
        boolean ok = !name.isEmpty();
        for (int i = 0; ok && i < name.length(); i++) {
            char c = name.charAt(i);
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || TOKEN_PUNCTUATION.indexOf(c) >= 0;
        }
        if (!ok) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "property name '" + name
                    + "' must be ASCII letters, digits or " + TOKEN_PUNCTUATION);
        }
    }

    /** Removes every message queued for a device; answers how many there were. */
    public CompletableFuture<Integer> purge(String deviceId) {
        return onWorker(() -> {
            Queue queue = queueOf(deviceId, registeredGeneration(deviceId));
            if (queue.entries.isEmpty()) {
                return 0;
            }
            int count = queue.entries.size();
            for (Entry entry : queue.entries) {
                recordFeedback(entry.message, FeedbackStatus.Purged, queue.inbox);
            }
            queue.entries.clear();
            save(queue);
            saveFeedbackQuietly();
            log.info("c2d queue of {} purged: {} messages", deviceId, count);
            return count;
        });
    }

    /** A device connection is ready to receive: queued messages start flowing to it. */
    public void attach(DeviceInbox inbox) {
        worker.execute(() -> {
            Queue queue = queueOf(inbox.deviceId(), inbox.generationId());
            queue.inbox = inbox;
            pump(queue);
        });
    }

    /** The connection ended; messages it had not acknowledged become deliverable to the next one. */
    public void detach(DeviceInbox inbox) {
        worker.execute(() -> {
            Queue queue = queues.get(inbox.deviceId());
            if (queue == null) {
                return;
            }
            if (queue.inbox == inbox) {
                queue.inbox = null;
            }
            for (Entry entry : queue.entries) {
                if (entry.lockedBy == inbox) {
                    entry.lockedBy = null;
                }
            }
        });
    }

    /** Delivers every deliverable message, oldest first, to the queue's inbox. Runs on the worker. */
    private void pump(Queue queue) {
        DeviceInbox inbox = queue.inbox;
        if (inbox == null) {
            return;
        }
        long now = clock.millis();
        boolean changed = false;
        for (Entry entry : List.copyOf(queue.entries)) {
            if (entry.lockedBy != null || entry.message.expiryMillis() <= now) {
                continue; // in flight, or about to be expired by the sweep
            }
            if (entry.message.deliveryCount() >= settings.maxDeliveryCount()) {
                queue.entries.remove(entry);
                recordFeedback(entry.message, FeedbackStatus.DeliveryCountExceeded, inbox);
                log.info("c2d message {} for {} dead-lettered: delivered {} times without acknowledgement",
                        entry.message.messageId(), queue.deviceId, entry.message.deliveryCount());
                changed = true;
                continue;
            }
            entry.message = entry.message.withDeliveryCount(entry.message.deliveryCount() + 1);
            entry.lockedBy = inbox;
            entry.lockedUntil = now + settings.lockTimeout().toMillis();
            changed = true;
            C2dMessage delivered = entry.message;
            inbox.deliver(delivered).whenComplete((ok, error) -> worker.execute(() ->
                    onDeliveryOutcome(queue, entry, inbox, delivered, error)));
        }
        if (changed) {
            // the delivery count is durable before the device can see the message again after a crash
            saveQuietly(queue);
            saveFeedbackQuietly();
        }
    }

    private void onDeliveryOutcome(Queue queue, Entry entry, DeviceInbox inbox, C2dMessage delivered,
                                   Throwable error) {
        if (!queue.entries.contains(entry) || entry.message != delivered) {
            return; // purged, expired, or already delivered again
        }
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (cause instanceof DeviceDisposition disposition && disposition.rejected()) {
                queue.entries.remove(entry);
                recordFeedback(entry.message, FeedbackStatus.Rejected, inbox);
                saveQuietly(queue);
                saveFeedbackQuietly();
                log.info("c2d message {} rejected by {}", entry.message.messageId(), queue.deviceId);
                return;
            }
            if (entry.lockedBy == inbox) {
                entry.lockedBy = null;
            }
            if (cause instanceof DeviceDisposition) {
                // abandoned by a live connection: offer it again at once (a dropped connection is not re-pumped,
                // it would fail again straight away)
                log.info("c2d message {} abandoned by {}", entry.message.messageId(), queue.deviceId);
                pump(queue);
            }
            return;
        }
        queue.entries.remove(entry);
        recordFeedback(entry.message, FeedbackStatus.Success, inbox);
        saveQuietly(queue);
        saveFeedbackQuietly();
        log.info("c2d message {} completed by {}", entry.message.messageId(), queue.deviceId);
    }

    /**
     * A polling device (HTTPS) takes the oldest deliverable message under a new lock; empty when none is
     * deliverable. Messages past the maximum delivery count are dead-lettered on the way, as for pushed ones.
     */
    public CompletableFuture<Optional<LockedMessage>> receive(String deviceId, String generationId) {
        return onWorker(() -> {
            Queue queue = queueOf(deviceId, generationId);
            long now = clock.millis();
            PollingInbox poller = new PollingInbox(deviceId, generationId);
            LockedMessage taken = null;
            boolean changed = false;
            for (Entry entry : List.copyOf(queue.entries)) {
                if (entry.lockedBy != null || entry.message.expiryMillis() <= now) {
                    continue;
                }
                if (entry.message.deliveryCount() >= settings.maxDeliveryCount()) {
                    queue.entries.remove(entry);
                    recordFeedback(entry.message, FeedbackStatus.DeliveryCountExceeded, poller);
                    changed = true;
                    continue;
                }
                entry.message = entry.message.withDeliveryCount(entry.message.deliveryCount() + 1);
                entry.lockedBy = poller;
                entry.lockedUntil = now + settings.lockTimeout().toMillis();
                entry.lockToken = UUID.randomUUID().toString();
                taken = new LockedMessage(entry.lockToken, entry.message);
                changed = true;
                break;
            }
            if (changed) {
                saveQuietly(queue);
                saveFeedbackQuietly();
            }
            return Optional.ofNullable(taken);
        });
    }

    /** Completes a polled message: it is gone, and a positive feedback record is written if asked for. */
    public CompletableFuture<Void> complete(String deviceId, String lockToken) {
        return settle(deviceId, lockToken, FeedbackStatus.Success);
    }

    /** Rejects a polled message: it is gone, and a negative feedback record is written if asked for. */
    public CompletableFuture<Void> reject(String deviceId, String lockToken) {
        return settle(deviceId, lockToken, FeedbackStatus.Rejected);
    }

    /** Abandons a polled message: it goes back to the queue and is deliverable again. */
    public CompletableFuture<Void> abandon(String deviceId, String lockToken) {
        return onWorker(() -> {
            Queue queue = queues.get(deviceId);
            Entry entry = lockedEntry(queue, lockToken);
            entry.lockedBy = null;
            entry.lockToken = null;
            log.info("c2d message {} abandoned by {}", entry.message.messageId(), deviceId);
            pump(queue);
            return null;
        });
    }

    private CompletableFuture<Void> settle(String deviceId, String lockToken, FeedbackStatus status) {
        return onWorker(() -> {
            Queue queue = queues.get(deviceId);
            Entry entry = lockedEntry(queue, lockToken);
            queue.entries.remove(entry);
            recordFeedback(entry.message, status, entry.lockedBy);
            save(queue);
            saveFeedbackQuietly();
            log.info("c2d message {} {} by {}", entry.message.messageId(),
                    status == FeedbackStatus.Success ? "completed" : "rejected", deviceId);
            return null;
        });
    }

    private Entry lockedEntry(Queue queue, String lockToken) {
        long now = clock.millis();
        if (queue != null && lockToken != null) {
            for (Entry entry : queue.entries) {
                if (lockToken.equals(entry.lockToken) && entry.lockedUntil > now) {
                    return entry;
                }
            }
        }
        throw new HubException(HubErrorCode.DeviceMessageLockLost,
                "no message of this device is locked with that token (settled already, or its lock expired)");
    }

    /** Expires messages past their time to live and returns timed-out locks to the queue. */
    private void sweep() {
        long now = clock.millis();
        for (Queue queue : List.copyOf(queues.values())) {
            Optional<String> generation = deviceGeneration.apply(queue.deviceId);
            if (generation.isEmpty() || !generation.get().equals(queue.generationId)) {
                forget(queue);
                continue;
            }
            boolean changed = false;
            boolean unlocked = false;
            for (Entry entry : List.copyOf(queue.entries)) {
                if (entry.message.expiryMillis() <= now) {
                    queue.entries.remove(entry);
                    recordFeedback(entry.message, FeedbackStatus.Expired, queue.inbox);
                    log.info("c2d message {} for {} expired", entry.message.messageId(), queue.deviceId);
                    changed = true;
                } else if (entry.lockedBy != null && entry.lockedUntil <= now) {
                    entry.lockedBy = null;
                    entry.lockToken = null;
                    unlocked = true;
                }
            }
            if (changed) {
                saveQuietly(queue);
            }
            if (unlocked || changed) {
                pump(queue);
            }
        }
        if (feedback.removeIf(f -> f.record.enqueuedMillis() + settings.feedbackTtl().toMillis() <= now)) {
            feedbackDirty = true;
        }
        saveFeedbackQuietly();
    }

    /** The device was deleted: its queue and feedback go with it. */
    private void forget(Queue queue) {
        queues.remove(queue.deviceId);
        depths.remove(queue.deviceId);
        try {
            store.deleteQueue(queue.deviceId);
        } catch (IOException e) {
            log.error("c2d queue of deleted device {} could not be removed", queue.deviceId, e);
        }
        dropFeedbackOf(queue.deviceId);
        if (!queue.entries.isEmpty()) {
            log.info("c2d queue of deleted device {} dropped with {} messages", queue.deviceId, queue.entries.size());
        }
    }

    private void recordFeedback(C2dMessage message, FeedbackStatus status, DeviceInbox inbox) {
        if (FeedbackMode.valueOf(message.ack()).wants(status)) {
            feedback.add(new PendingFeedback(new FeedbackRecord(message.messageId(), message.deviceId(),
                    inbox == null ? null : inbox.generationId(), status.name(), status.name(), clock.millis())));
            feedbackDirty = true;
        }
    }

    /** Takes the oldest available feedback records under a new lock token; empty when there are none. */
    public CompletableFuture<Optional<FeedbackBatch>> receiveFeedback() {
        return onWorker(() -> {
            long now = clock.millis();
            List<FeedbackRecord> batch = new ArrayList<>();
            String token = UUID.randomUUID().toString();
            for (PendingFeedback pending : feedback) {
                if (batch.size() == settings.maxFeedbackBatch()) {
                    break;
                }
                if (pending.lockToken == null || pending.lockedUntil <= now) {
                    pending.lockToken = token;
                    pending.lockedUntil = now + settings.feedbackLockTimeout().toMillis();
                    batch.add(pending.record);
                }
            }
            return batch.isEmpty() ? Optional.empty() : Optional.of(new FeedbackBatch(token, batch));
        });
    }

    /** Completes a received batch: its records are gone for good. */
    public CompletableFuture<Void> completeFeedback(String lockToken) {
        return onWorker(() -> {
            long now = clock.millis();
            boolean removed = feedback.removeIf(f -> lockToken.equals(f.lockToken) && f.lockedUntil > now);
            if (!removed) {
                throw new HubException(HubErrorCode.DeviceMessageLockLost,
                        "no feedback batch is locked with that token (it was completed, or its lock expired)");
            }
            saveFeedback();
            return null;
        });
    }

    /** Gives a received batch back: its records can be received again. */
    public CompletableFuture<Void> abandonFeedback(String lockToken) {
        return onWorker(() -> {
            long now = clock.millis();
            boolean found = false;
            for (PendingFeedback f : feedback) {
                if (lockToken.equals(f.lockToken) && f.lockedUntil > now) {
                    f.lockToken = null;
                    found = true;
                }
            }
            if (!found) {
                throw new HubException(HubErrorCode.DeviceMessageLockLost,
                        "no feedback batch is locked with that token (it was completed, or its lock expired)");
            }
            return null;
        });
    }

    /**
     * How many messages are queued for a device (delivered but unacknowledged ones included) as of its queue's last
     * change; never waits, so it may miss a change the worker is making at that moment.
     */
    public int queuedMessages(String deviceId) {
        return depths.getOrDefault(deviceId, 0);
    }

    /** How many messages are queued for a device, once every change asked for before this call is made. */
    public CompletableFuture<Integer> queueDepth(String deviceId) {
        return onWorker(() -> {
            Queue queue = queues.get(deviceId);
            return queue == null ? 0 : queue.entries.size();
        });
    }

    private <T> CompletableFuture<T> onWorker(Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            worker.execute(() -> {
                try {
                    result.complete(action.get());
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new HubException(HubErrorCode.ServiceUnavailable, "the hub is stopping"));
        }
        return result;
    }

    private void save(Queue queue) {
        depths.put(queue.deviceId, queue.entries.size());
        try {
            store.saveQueue(new DeviceQueue(queue.deviceId, queue.generationId, queue.nextSequence,
                    queue.entries.stream().map(e -> e.message).toList()));
        } catch (IOException e) {
            log.error("c2d queue of {} could not be stored", queue.deviceId, e);
            throw new UncheckedIOException(e);
        }
    }

    private void saveQuietly(Queue queue) {
        try {
            save(queue);
        } catch (UncheckedIOException alreadyLogged) {
            // the in-memory state stays right; the next change of this queue writes it again
        }
    }

    private void saveFeedback() {
        try {
            store.saveFeedback(feedback.stream().map(f -> f.record).toList());
            feedbackDirty = false;
        } catch (IOException e) {
            log.error("c2d feedback could not be stored", e);
            throw new HubException(HubErrorCode.ServerError, "feedback could not be stored");
        }
    }

    private void saveFeedbackQuietly() {
        if (!feedbackDirty) {
            return;
        }
        try {
            saveFeedback();
        } catch (HubException alreadyLogged) {
            // retried by the next change or sweep
        }
    }

    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
