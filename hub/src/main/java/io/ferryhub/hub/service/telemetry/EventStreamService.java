package io.ferryhub.hub.service.telemetry;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.threads.Threads;
import io.ferryhub.hub.storage.eventlog.ConsumerGroupStore;
import io.ferryhub.hub.storage.eventlog.EventLog;
import io.ferryhub.hub.storage.eventlog.EventReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The service side of the built-in event stream: consumer groups (IoT Hub: {@code $Default} plus up to 19 more) and
 * resumable reads of a partition from any start position. Reads wait for new events (long poll) on threads of
 * their own, never on a network event loop; at most {@value #MAX_WAITING_READS} wait at once.
 */
public final class EventStreamService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStreamService.class);
    public static final String DEFAULT_CONSUMER_GROUP = "$Default";
    public static final int MAX_CONSUMER_GROUPS = 20;
    public static final Duration MAX_WAIT = Duration.ofSeconds(60);
    public static final int MAX_EVENTS_PER_READ = 1000;
    private static final int MAX_WAITING_READS = 256;
    /** Event Hubs' rule: letters, digits, '.', '-', '_'; starts and ends with a letter or digit; up to 50. */
    private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,48}[A-Za-z0-9])?");

    /** Events read and where the next read continues. */
    public record ReadResult(List<StoredEvent> events, long nextOffset) {
    }

    private final EventLog eventLog;
    private final ConsumerGroupStore groupStore;
    /**
     * The consumer groups, replaced whole on a change. Event Hubs attaches check a group on the event loop, so they
     * read this without a lock; changes, which wait for an fsync, take {@link #groupChanges} instead.
     */
    private volatile List<String> groups;
    private final Object groupChanges = new Object();
    private final ExecutorService readers = Executors.newCachedThreadPool(Threads.daemonFactory("event-stream-reader"));
    private final Semaphore waitingReads = new Semaphore(MAX_WAITING_READS);
    private final PartitionOwnership ownership = new PartitionOwnership();

    public EventStreamService(EventLog eventLog, ConsumerGroupStore groupStore) throws IOException {
        this.eventLog = eventLog;
        this.groupStore = groupStore;
        List<String> stored = new ArrayList<>(groupStore.load());
        if (!stored.contains(DEFAULT_CONSUMER_GROUP)) {
            stored.add(0, DEFAULT_CONSUMER_GROUP);
            groupStore.save(stored);
        }
        groups = List.copyOf(stored);
    }

    public int partitionCount() {
        return eventLog.partitionCount();
    }

    public PartitionInfo partitionInfo(int partition) {
        return eventLog.partitionInfo(partition);
    }

    /** Never blocks: safe on an event loop. */
    public List<String> consumerGroups() {
        return groups;
    }

    /** Waits until the change is durable: call it off an event loop. */
    public void createConsumerGroup(String name) {
        if (name == null || !GROUP_NAME.matcher(name).matches()) {
            throw new HubException(HubErrorCode.ArgumentInvalid, "invalid consumer group name '" + name
                    + "': 1-50 letters, digits, '.', '-' or '_', starting and ending with a letter or digit");
        }
        synchronized (groupChanges) {
            if (groups.stream().anyMatch(g -> g.equalsIgnoreCase(name))) {
                throw new HubException(HubErrorCode.InvalidOperation, "consumer group '" + name
                        + "' already exists");
            }
            if (groups.size() >= MAX_CONSUMER_GROUPS) {
                throw new HubException(HubErrorCode.IotHubQuotaExceeded,
                        "a hub has at most " + MAX_CONSUMER_GROUPS + " consumer groups");
            }
            List<String> next = new ArrayList<>(groups);
            next.add(name);
            persist(next);
        }
        log.info("consumer group '{}' created", name);
    }

    /** Waits until the change is durable: call it off an event loop. */
    public void deleteConsumerGroup(String name) {
        if (DEFAULT_CONSUMER_GROUP.equals(name)) {
            throw new HubException(HubErrorCode.InvalidOperation, "the $Default consumer group cannot be deleted");
        }
        synchronized (groupChanges) {
            List<String> next = new ArrayList<>(groups);
            if (!next.removeIf(g -> g.equalsIgnoreCase(name))) {
                throw new HubException(HubErrorCode.ArgumentInvalid, "no consumer group '" + name + "'");
            }
            persist(next);
        }
        log.info("consumer group '{}' deleted", name);
    }

    /** Stores the list, then shows it to readers: a group is usable only once it survives a crash. */
    private void persist(List<String> next) {
        try {
            groupStore.save(next);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store consumer groups", e);
        }
        groups = List.copyOf(next);
    }

    /**
     * Reads up to {@code max} events of a partition from {@code start}, waiting up to {@code wait} for the first.
     * The result's {@code nextOffset} resumes exactly after the last event returned.
     */
    public CompletableFuture<ReadResult> read(String consumerGroup, int partition, StartPosition start, int max,
                                              Duration wait) {
        String group = consumerGroup == null ? DEFAULT_CONSUMER_GROUP : consumerGroup;
        if (groups.stream().noneMatch(g -> g.equalsIgnoreCase(group))) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ArgumentInvalid,
                    "no consumer group '" + group + "'"));
        }
        if (partition < 0 || partition >= eventLog.partitionCount()) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.PartitionNotFound,
                    "partition " + partition + " does not exist (the hub has " + eventLog.partitionCount() + ")"));
        }
        int limit = Math.max(1, Math.min(max, MAX_EVENTS_PER_READ));
        Duration boundedWait = wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
        if (!waitingReads.tryAcquire()) {
            return CompletableFuture.failedFuture(new HubException(HubErrorCode.ThrottlingException,
                    "too many event stream reads in progress"));
        }
        return CompletableFuture.supplyAsync(() -> {
            try (EventReader reader = eventLog.openReader(partition, start)) {
                List<StoredEvent> events = reader.poll(limit, boundedWait);
                return new ReadResult(events, reader.nextOffset());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HubException(HubErrorCode.ServiceUnavailable, "the hub is shutting down");
            } finally {
                waitingReads.release();
            }
        }, readers);
    }

    /**
     * Places a streaming receiver on a consumer group's partition under Event Hubs' epoch rules
     * ({@link PartitionOwnership}); {@code onDisplaced} hears, on some thread, that a later receiver took its place.
     */
    public PartitionOwnership.Claim claimPartition(String consumerGroup, int partition, Long epoch,
                                                   Consumer<String> onDisplaced) {
        return ownership.claim(consumerGroup, partition, epoch, onDisplaced);
    }

    @Override
    public void close() {
        readers.shutdownNow();
    }
}
