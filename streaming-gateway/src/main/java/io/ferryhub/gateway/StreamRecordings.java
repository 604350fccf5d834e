package io.ferryhub.gateway;

import io.ferryhub.common.threads.Threads;
import io.ferryhub.signaling.StreamToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * Where and which streams the gateway records, and the retention of the recordings: a stream is recorded when
 * {@code all} is set or its identity's stream policy asks for it ({@code "record": true}); nothing else is. Each
 * time a recording ends, recordings older than {@code maxAge} are deleted, then the oldest ones until the directory
 * holds at most {@code maxBytes}. A recording still being written is never deleted, whatever its age or size: only
 * closed ones make room.
 * <p>
 * A stream being recorded is never relayed faster than its recording is written: see {@link StreamRecorder}.
 */
public final class StreamRecordings implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamRecordings.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path dir;
    private final boolean all;
    private final Duration maxAge;
    private final long maxBytes;
    private final Clock clock;
    private final ExecutorService writer;
    /** The recorders of the streams being recorded. */
    private final Set<StreamRecorder> recorders = ConcurrentHashMap.newKeySet();
    /** The recordings being written; touched only on the writer thread. */
    private final Set<Path> open = new HashSet<>();
    /** Whether the open recordings alone were over the cap at the last retention pass (logged once per spell). */
    private boolean openOverCap;

    public StreamRecordings(Path dir, boolean all, Duration maxAge, long maxBytes, Clock clock) {
        this(dir, all, maxAge, maxBytes, clock,
                Executors.newSingleThreadExecutor(Threads.daemonFactory("stream-recordings")));
    }

    /** @param writer a single thread: the recordings' files are written and their retention applied on it */
    StreamRecordings(Path dir, boolean all, Duration maxAge, long maxBytes, Clock clock, ExecutorService writer) {
        this.writer = writer;
        if (maxAge.isNegative() || maxAge.isZero() || maxBytes <= 0) {
            throw new IllegalArgumentException("recording retention must be positive");
        }
        this.dir = dir;
        this.all = all;
        this.maxAge = maxAge;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /** A recorder for this stream, or null when it is not to be recorded. */
    StreamRecorder recorderFor(StreamToken token, boolean tunnel) {
        if (!all && (token.grant() == null || !token.grant().record())) {
            return null;
        }
        Instant start = clock.instant();
        String name = STAMP.format(start) + "-" + safe(token.deviceId())
                + (token.moduleId() == null ? "" : "-" + safe(token.moduleId())) + "-" + token.streamId()
                + StreamRecording.SUFFIX;
        Path file = dir.resolve(name);
        // queued ahead of the recorder's own tasks, so the file is known to be open before it exists
        writer.execute(() -> open.add(file));
        StreamRecorder recorder = new StreamRecorder(file, writer, token, tunnel, start);
        recorders.add(recorder);
        return recorder;
    }

    /** Bytes relayed by the streams being recorded and not yet written to their recordings. */
    public long queuedBytes() {
        return recorders.stream().mapToLong(StreamRecorder::queuedBytes).sum();
    }

    /** The recorders of the streams being recorded now. */
    Set<StreamRecorder> recorders() {
        return Set.copyOf(recorders);
    }

    /** Ends a recording, then applies the retention. */
    void finished(StreamRecorder recorder) {
        recorders.remove(recorder);
        recorder.close();
        writer.execute(() -> {
            open.remove(recorder.file());
            enforceRetention();
        });
    }

    private void enforceRetention() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        record Recording(Path path, FileTime modified, long size) {
        }
        List<Recording> recordings = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files.filter(f -> f.getFileName().toString()
                    .endsWith(StreamRecording.SUFFIX))::iterator) {
                recordings.add(new Recording(p, Files.getLastModifiedTime(p), Files.size(p)));
            }
        } catch (IOException e) {
            log.warn("recording retention: cannot list {}: {}", dir, e.toString());
            return;
        }
        recordings.sort(Comparator.comparing(Recording::modified));
        Instant oldest = clock.instant().minus(maxAge);
        long total = recordings.stream().mapToLong(Recording::size).sum();
        long openBytes = recordings.stream().filter(r -> open.contains(r.path())).mapToLong(Recording::size).sum();
        if (openBytes > maxBytes != openOverCap) {
            openOverCap = openBytes > maxBytes;
            if (openOverCap) {
                log.warn("recordings being written hold {} bytes, over the {} byte cap: only closed recordings "
                        + "are deleted", openBytes, maxBytes);
            }
        }
        for (Recording r : recordings) {
            if (open.contains(r.path())) {
                continue;
            }
            boolean tooOld = r.modified().toInstant().isBefore(oldest);
            if (!tooOld && total <= maxBytes) {
                continue;
            }
            try {
                Files.deleteIfExists(r.path());
                total -= r.size();
                log.info("recording {} deleted: {}", r.path().getFileName(), tooOld ? "older than " + maxAge.toDays()
                        + " days" : "recordings over " + maxBytes + " bytes");
            } catch (IOException e) {
                log.warn("recording retention: cannot delete {}: {}", r.path(), e.toString());
            }
        }
    }

    private static String safe(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public void close() {
        writer.shutdown();
    }
}
