package io.ferryhub.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The used-token file: it survives a reopen, forgets tokens once they expire, and shrugs off a torn last line. */
class UsedStreamTokensTest {
    @TempDir
    Path dir;

    /** A clock the test moves. */
    private static final class MovableClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void usedTokensAreKeptUntilTheyExpireAndNoLonger() throws Exception {
        MovableClock clock = new MovableClock();
        Path file = dir.resolve("used-stream-tokens");
        try (UsedStreamTokens used = UsedStreamTokens.open(file, clock)) {
            used.add("short", clock.now.plusSeconds(60));
            used.add("long", clock.now.plusSeconds(600));
            assertTrue(used.contains("short") && used.contains("long"));
            assertFalse(used.contains("other"));
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        // a crash in the middle of an append
        Files.write(file, "17672256".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.APPEND);

        try (UsedStreamTokens used = UsedStreamTokens.open(file, clock)) {
            assertTrue(used.contains("short") && used.contains("long"), "kept across a reopen");
            used.add("later", clock.now.plusSeconds(60));
        }
        clock.now = clock.now.plusSeconds(120);
        try (UsedStreamTokens used = UsedStreamTokens.open(file, clock)) {
            assertFalse(used.contains("short"), "its token has expired: nothing to remember");
            assertTrue(used.contains("long"));
            assertEquals(1, used.size());
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        assertEquals(List.of(clock.now.minusSeconds(120).plusSeconds(600).getEpochSecond() + " long"), lines,
                "the file is rewritten with the live entries only");
    }
}
