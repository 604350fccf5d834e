package io.ferryhub.gateway;

import io.ferryhub.common.files.OwnerOnlyFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The streams whose tokens a gateway has accepted, kept on disk until the tokens expire, so that a token opens its
 * stream once even across restarts of the gateway (embedded in the hub or stand-alone): the gateway checks tokens
 * with the shared key alone, and its in-memory record of used streams dies with the process.
 *
 * <p>One line per stream, {@code <expiry epoch second> <stream id>}, appended and fsynced before the stream's first
 * end is let in. A token lives for a stream's answer and handshake windows (a minute or two), so the file stays
 * small: it is rewritten without expired entries at open and whenever it has grown to twice its live entries.
 */
public final class UsedStreamTokens implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UsedStreamTokens.class);
    /** Below this many lines the file is never rewritten while running. */
    private static final int MIN_REWRITE_LINES = 1024;

    private final Path file;
    private final Clock clock;
    /** Stream id to token expiry. */
    private final Map<String, Instant> used = new HashMap<>();
    private FileChannel out;
    private int lines;

    private UsedStreamTokens(Path file, Clock clock) {
        this.file = file;
        this.clock = clock;
    }

    /** Loads (or creates, owner-only) the file; expired entries are dropped. */
    public static UsedStreamTokens open(Path file, Clock clock) throws IOException {
        UsedStreamTokens tokens = new UsedStreamTokens(file, clock);
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
                tokens.load(line);
            }
        }
        tokens.rewrite();
        return tokens;
    }

    private void load(String line) {
        int space = line.indexOf(' ');
        if (space <= 0 || space == line.length() - 1) {
            return; // a line torn by a crash: its stream's end was never let in
        }
        try {
            used.merge(line.substring(space + 1), Instant.ofEpochSecond(Long.parseLong(line.substring(0, space))),
                    (a, b) -> a.isAfter(b) ? a : b);
        } catch (NumberFormatException torn) {
            // as above
        }
    }

    /** Whether a token of this stream was accepted before (and has not expired since). */
    public synchronized boolean contains(String streamId) {
        Instant expiry = used.get(streamId);
        return expiry != null && clock.instant().isBefore(expiry);
    }

    /** Records, durably, that a token of this stream was accepted; it must not be let in if this fails. */
    public synchronized void add(String streamId, Instant expiry) throws IOException {
        if (streamId.isEmpty() || streamId.chars().anyMatch(c -> c <= ' ')) {
            throw new IOException("stream id " + streamId + " cannot be recorded");
        }
        if (lines >= MIN_REWRITE_LINES && lines >= 2 * used.size()) {
            rewrite();
        }
        ByteBuffer line = ByteBuffer.wrap((expiry.getEpochSecond() + " " + streamId + "\n")
                .getBytes(StandardCharsets.US_ASCII));
        while (line.hasRemaining()) {
            out.write(line);
        }
        out.force(false);
        used.put(streamId, expiry);
        lines++;
    }

    /** Writes the live entries to a new file and renames it over the old one, so a crash leaves one or the other. */
    private void rewrite() throws IOException {
        Instant now = clock.instant();
        used.values().removeIf(expiry -> !now.isBefore(expiry));
        StringBuilder text = new StringBuilder();
        used.forEach((id, expiry) -> text.append(expiry.getEpochSecond()).append(' ').append(id).append('\n'));
        Path next = file.resolveSibling(file.getFileName() + ".next");
        try (FileChannel tmp = OwnerOnlyFiles.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) {
                tmp.write(bytes);
            }
            tmp.force(true);
        }
        if (out != null) {
            out.close();
        }
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException notSupportedOnThisFileSystem) {
            // the rename is then as durable as the file system makes it
        }
        out = OwnerOnlyFiles.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        lines = used.size();
    }

    /** How many streams' tokens are remembered now. */
    public synchronized int size() {
        return used.size();
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            log.warn("closing {} failed: {}", file, e.toString());
        }
    }
}
