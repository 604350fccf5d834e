package io.ferryhub.gateway;

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
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * Where and which streams the gateway records, and the retention of the recordings: a stream is recorded when
 * {@code all} is set or its identity's stream policy asks for it ({@code "record": true}); nothing else is. Each
 * time a recording ends, recordings older than {@code maxAge} are deleted, then the oldest ones until the directory
 * holds at most {@code maxBytes}.
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
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stream-recordings");
        t.setDaemon(true);
        return t;
    });

    public StreamRecordings(Path dir, boolean all, Duration maxAge, long maxBytes, Clock clock) {
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
        return new StreamRecorder(dir.resolve(name), writer, token, tunnel, start);
    }

    /** Ends a recording, then applies the retention. */
    void finished(StreamRecorder recorder) {
        recorder.close();
        writer.execute(this::enforceRetention);
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
        for (Recording r : recordings) {
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
